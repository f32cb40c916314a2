import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/app-error.js';
import { canonicalJson } from '../common/canonical-json.js';
import { crashPoint } from '../common/crash-points.js';
import { DefinitionCache } from '../definitions/definition-cache.js';
import { signalStep } from '../definitions/saga-plan.js';
import { Phase, SAGA_STATUS_TRAITS, SagaStatus, StepStatus } from '../engine/statuses.js';
import { answerOutcome, type OutsideAnswer } from './outside-answers.js';
import { SagaTransitions } from './saga-transitions.js';
import { SagaRepository } from './saga.repository.js';
import { CALLBACK_TOKEN_PATTERN, tokenHash, Waits, type CallbackRow } from './waits.js';

/** How a callback or a signal was taken: 202 the first time, 200 for the same one again. */
export interface AnswerReceipt {
  status: 202 | 200;
  body: Record<string, unknown>;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/**
 * Callbacks and signals (SPEC §10, ADR 13): what the outside world answers
 * to an attempt that waits for it, applied through the engine like any
 * other outcome. A callback's answer is recorded on its token's row before
 * it is applied, and marked applied in the statement that applies it, so
 * exactly one answer wins an attempt (a retry, the timeout and a different
 * callback race through the same guarded transition). A signal is stored
 * before anything else (durable at 202) and taken by its step when the step
 * waits: now, or when it starts.
 */
@Injectable()
export class WaitAnswers {
  private readonly logger = new Logger(WaitAnswers.name);

  constructor(
    private readonly waits: Waits,
    private readonly transitions: SagaTransitions,
    private readonly sagas: SagaRepository,
    private readonly definitions: DefinitionCache,
  ) {}

  async callback(token: string, answer: OutsideAnswer): Promise<AnswerReceipt> {
    if (!CALLBACK_TOKEN_PATTERN.test(token)) throw unknownToken();
    const found = await this.waits.recordAnswer(token, answer);
    if (!found) throw unknownToken();
    const { row, recorded } = found;
    if (recorded) crashPoint('after-callback-recorded');
    if (!recorded) {
      if (!same(row.answer, answer)) throw notOutstanding('this attempt already received a different callback');
      if (row.state === 'applied') return receipt(200, row, answer);
      if (row.state === 'rejected') throw notOutstanding('the attempt was no longer outstanding when this callback first came (late, retried, or the saga stopped)');
      // 'received': the delivery that recorded it died before applying it, or is applying it now.
    }
    if (!(await this.applyAnswer(row, tokenHash(token), answer))) throw notOutstanding('the attempt is no longer outstanding (late, replaced by a retry, or the saga stopped)');
    crashPoint('after-callback-applied');
    return receipt(recorded ? 202 : 200, row, answer);
  }

  /**
   * Applies a recorded callback answer; true when it (or an earlier
   * delivery of it) settled the attempt, false when the attempt was no
   * longer outstanding (the row is then marked rejected).
   */
  async applyAnswer(row: CallbackRow, hash: Buffer, answer: OutsideAnswer): Promise<boolean> {
    const address = { step: row.step, phase: row.phase, attempt: row.attempt };
    const applied = await this.transitions.applyAttemptOutcome(row.sagaId, answerOutcome(answer, address, 'callback'), row.run, undefined, undefined, hash);
    if (applied.outcome === 'applied') return true;
    // Not outstanding now, and never again. If a delivery of this answer applied it, its commit marked the row.
    const fresh = await this.waits.findCallbackByHash(hash);
    if (fresh?.state === 'applied') return true;
    await this.waits.settleAnswerByHash(hash, 'rejected');
    return false;
  }

  async signal(sagaId: string, name: string, answer: OutsideAnswer): Promise<AnswerReceipt> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const saga = await this.sagas.find(sagaId);
      if (!saga) throw new AppError(ErrorCode.SAGA_NOT_FOUND, `No saga ${sagaId}.`, { sagaId });
      const plan = await this.definitions.get(saga.definitionName, saga.definitionVersion);
      const step = signalStep(plan, name);
      if (!step) throw notExpected(`no step of ${saga.definitionName} v${saga.definitionVersion} waits for the signal "${name}"`);
      const state = saga.steps[step.index];
      const waiting = state.awaiting === Phase.ACTION;
      const latest = await this.waits.latestSignal(sagaId, saga.run, name);
      // A signal counts as received for this wait unless the step took it in an attempt before the current one (a replay waits anew).
      const forThisWait = latest !== null && !(waiting && latest.consumedAttempt !== null && latest.consumedAttempt < state.attempts);
      if (forThisWait) {
        if (!same(latest.body, answer)) throw new AppError(ErrorCode.SIGNAL_ALREADY_RECEIVED, `The signal "${name}" was already received with another body.`, { sagaId, signal: name });
        // Not taken yet, or taken by this wait and not applied (a process died in between): deliver it now.
        if (waiting && (latest.consumedAttempt === null || latest.consumedAttempt === state.attempts)) await this.deliverSignal(sagaId, name);
        return { status: 200, body: { sagaId, signal: name, step: step.name } };
      }
      const open = saga.status === SagaStatus.RUNNING || saga.status === SagaStatus.PAUSED;
      if (SAGA_STATUS_TRAITS[saga.status].terminal || !open || !(state.status === StepStatus.PENDING || waiting)) {
        throw notExpected(
          SAGA_STATUS_TRAITS[saga.status].terminal
            ? `the saga is ${saga.status}`
            : `the step "${step.name}" no longer waits for it (step ${state.status}, saga ${saga.status})`,
        );
      }
      if (!(await this.waits.storeSignal(sagaId, saga.run, name, (latest?.seq ?? 0) + 1, answer))) continue; // another one was stored at once: look again
      crashPoint('after-signal-stored');
      await this.deliverSignal(sagaId, name);
      return { status: 202, body: { sagaId, signal: name, step: step.name } };
    }
    throw new AppError(ErrorCode.CONCURRENT_UPDATE, `Signals "${name}" for saga ${sagaId} keep arriving at once; retry.`);
  }

  /**
   * Hands a kept signal to its step if the step waits for it now (the step
   * takes it itself when it starts later). Safe to repeat: the signal is
   * taken by one attempt, and its outcome applied once.
   */
  async deliverSignal(sagaId: string, name: string): Promise<void> {
    const saga = await this.sagas.find(sagaId);
    if (!saga) return;
    const plan = await this.definitions.get(saga.definitionName, saga.definitionVersion);
    const step = signalStep(plan, name);
    if (!step || saga.steps[step.index].awaiting !== Phase.ACTION) return;
    const attempt = saga.steps[step.index].attempts;
    const taken = await this.waits.takeSignal(sagaId, saga.run, name, attempt);
    if (!taken) return;
    crashPoint('after-signal-taken');
    const outcome = answerOutcome(taken.body as OutsideAnswer, { step: step.index, phase: Phase.ACTION, attempt }, { signal: name });
    const applied = await this.transitions.applyAttemptOutcome(sagaId, outcome, saga.run, saga);
    if (applied.outcome !== 'applied') this.logger.log({ msg: `signal "${name}" not applied (${applied.outcome}): ${applied.reason ?? ''}`, sagaId });
  }
}

function receipt(status: 202 | 200, row: CallbackRow, answer: OutsideAnswer): AnswerReceipt {
  return { status, body: { sagaId: row.sagaId, run: row.run, phase: row.phase, attempt: row.attempt, status: answer.status } };
}

function unknownToken(): AppError {
  return new AppError(ErrorCode.CALLBACK_NOT_FOUND, 'No callback is expected with this token.');
}

function notOutstanding(why: string): AppError {
  return new AppError(ErrorCode.CALLBACK_NOT_OUTSTANDING, `The callback was not applied: ${why}.`);
}

function notExpected(why: string): AppError {
  return new AppError(ErrorCode.SIGNAL_NOT_EXPECTED, `The signal is not expected: ${why}.`);
}
