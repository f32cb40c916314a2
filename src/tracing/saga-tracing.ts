import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createHash, randomBytes } from 'node:crypto';

/** The trace of a saga run: derived from the saga id and run, so every process and attempt agrees on it. */
export function runTraceId(sagaId: string, run: number): string {
  return sagaId.replace(/-/g, '').slice(0, 28) + run.toString(16).padStart(4, '0').slice(-4);
}

/** The id of the run's root span (deterministic, like the trace id). */
export function runRootSpanId(sagaId: string, run: number): string {
  return createHash('sha256').update(`${sagaId}:${run}`).digest('hex').slice(0, 16);
}

/** Ids are random, except for the one span whose ids are given (a run's root span). */
class RunIds implements IdGenerator {
  next: { traceId: string; spanId: string } | null = null;
  generateTraceId(): string {
    return this.next?.traceId ?? randomBytes(16).toString('hex');
  }
  generateSpanId(): string {
    return this.next?.spanId ?? randomBytes(8).toString('hex');
  }
}

/**
 * Whether tracing is on, by the standard OpenTelemetry variables: an OTLP
 * endpoint or OTEL_TRACES_EXPORTER=otlp, and not OTEL_SDK_DISABLED=true.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return env.OTEL_TRACES_EXPORTER === 'otlp' || !!env.OTEL_EXPORTER_OTLP_ENDPOINT || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
}

export interface AttemptSpan {
  /** The W3C traceparent to send to the participant: this attempt's span. */
  traceparent: string;
  end(outcome: { ok: boolean; message?: string }): void;
}

/**
 * OpenTelemetry traces of saga runs (off unless configured; ADR 7). A run is
 * one trace: a root span `saga.run` when the run starts, a span per step
 * attempt and compensation under it, `saga.settled` when it settles. The
 * participant receives the attempt span as `traceparent` and continues the
 * trace. Exporter, endpoint and headers come from the standard OTEL_*
 * variables (OTLP over HTTP; OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf or
 * http/json).
 */
@Injectable()
export class SagaTracing implements OnApplicationShutdown {
  private readonly logger = new Logger('tracing');
  private readonly provider: NodeTracerProvider | null = null;
  private readonly tracer: Tracer | null = null;
  private readonly ids = new RunIds();

  constructor() {
    if (!tracingEnabled(process.env)) return;
    const protocol = process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
    const exporter = protocol === 'http/json' ? new OtlpHttpJsonExporter() : new OtlpProtobufExporter();
    this.provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'saga-orchestrator' }),
      idGenerator: this.ids,
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    this.tracer = this.provider.getTracer('saga-orchestrator');
    this.logger.log(`tracing on: OTLP ${protocol}`);
  }

  get enabled(): boolean {
    return this.tracer !== null;
  }

  /** Records the start of a run: the root span of its trace. */
  runStarted(saga: { id: string; run: number; definition: string; version: number }): void {
    if (!this.tracer) return;
    this.ids.next = { traceId: runTraceId(saga.id, saga.run), spanId: runRootSpanId(saga.id, saga.run) };
    let span: Span;
    try {
      span = this.tracer.startSpan('saga.run', { kind: SpanKind.INTERNAL, attributes: this.attributes(saga) }, ROOT_CONTEXT);
    } finally {
      this.ids.next = null;
    }
    span.end();
  }

  /** Records that a run settled (COMPLETED, COMPENSATED, PAUSED, FAILED). */
  runSettled(saga: { id: string; run: number; definition: string; version: number }, status: string): void {
    if (!this.tracer) return;
    const span = this.tracer.startSpan('saga.settled', { attributes: { ...this.attributes(saga), 'saga.status': status } }, this.runContext(saga.id, saga.run));
    if (status !== 'COMPLETED') span.setStatus({ code: SpanStatusCode.ERROR, message: status });
    span.end();
  }

  /** A span for one step attempt; null when tracing is off. */
  attempt(saga: { id: string; run: number; definition: string; version: number }, step: string, phase: string, attempt: number): AttemptSpan | null {
    if (!this.tracer) return null;
    const span = this.tracer.startSpan(
      `saga.step ${step} ${phase}`,
      { kind: SpanKind.CLIENT, attributes: { ...this.attributes(saga), 'saga.step': step, 'saga.phase': phase, 'saga.attempt': attempt } },
      this.runContext(saga.id, saga.run),
    );
    const { traceId, spanId } = span.spanContext();
    return {
      traceparent: `00-${traceId}-${spanId}-01`,
      end: ({ ok, message }) => {
        if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.end();
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider?.shutdown().catch((error: Error) => this.logger.warn(`trace export at shutdown failed: ${error.message}`));
  }

  private runContext(sagaId: string, run: number) {
    return trace.setSpanContext(context.active(), {
      traceId: runTraceId(sagaId, run),
      spanId: runRootSpanId(sagaId, run),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  }

  private attributes(saga: { id: string; run: number; definition: string; version: number }) {
    return { 'saga.id': saga.id, 'saga.run': saga.run, 'saga.definition': saga.definition, 'saga.definition_version': saga.version };
  }
}
