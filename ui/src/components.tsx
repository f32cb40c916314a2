import { useEffect, useRef, useState, type ReactNode } from 'react';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-testid="status">
      {status}
    </span>
  );
}

/** JSON, folded behind its label unless `open`. */
export function JsonView({ label, value, open = false }: { label: string; value: unknown; open?: boolean }) {
  if (value === undefined) return null;
  return (
    <details className="json" open={open}>
      <summary>{label}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

export function Loading() {
  return <p className="muted">Loading…</p>;
}

/** A `<dialog>` shown as a modal once mounted. */
function useModal() {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return ref;
}

/**
 * A confirmation with an optional reason (and, for a new run, optional new
 * input as JSON). Resolves with what was typed; Cancel closes it.
 */
export function ConfirmDialog(props: {
  title: string;
  description: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  withInput?: boolean;
  onConfirm: (values: { reason?: string; input?: unknown }) => Promise<void>;
  onClose: () => void;
}) {
  const ref = useModal();
  const [reason, setReason] = useState('');
  const [input, setInput] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function confirm() {
    let parsed: unknown;
    if (props.withInput && input.trim()) {
      try {
        parsed = JSON.parse(input);
      } catch {
        setError('The new input is not valid JSON.');
        return;
      }
    }
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm({ reason: reason.trim() || undefined, input: parsed });
      props.onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }

  return (
    <dialog ref={ref} className="dialog" onClose={props.onClose} aria-labelledby="dialog-title">
      <h2 id="dialog-title">{props.title}</h2>
      <div className="dialog-body">{props.description}</div>
      <label>
        Reason <span className="muted">(optional, kept in the history)</span>
        <textarea name="reason" rows={2} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      {props.withInput && (
        <label>
          New input <span className="muted">(optional JSON; the previous input when empty)</span>
          <textarea name="input" rows={4} value={input} onChange={(e) => setInput(e.target.value)} spellCheck={false} />
        </label>
      )}
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={props.onClose} disabled={busy}>
          Back
        </button>
        <button type="button" className={props.danger ? 'danger' : 'primary'} onClick={confirm} disabled={busy}>
          {busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Calls `tick` every `ms` while `active`, and once when it turns on. */
export function usePolling(active: boolean, ms: number, tick: () => void): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => latest.current(), ms);
    return () => window.clearInterval(timer);
  }, [active, ms]);
}

/**
 * Sends a signal (SPEC §10) once confirmed: succeeded with an output, or
 * failed with an error, each as JSON typed into the editor (checked before
 * anything is sent).
 */
export function SignalDialog(props: {
  signal: string;
  step: string;
  onConfirm: (body: { status: 'succeeded'; output?: unknown } | { status: 'failed'; error?: unknown }) => Promise<void>;
  onClose: () => void;
}) {
  const ref = useModal();
  const [status, setStatus] = useState<'succeeded' | 'failed'>('succeeded');
  const [json, setJson] = useState('{}');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function confirm() {
    let value: unknown;
    if (json.trim()) {
      try {
        value = JSON.parse(json);
      } catch (e) {
        setError(`The ${status === 'succeeded' ? 'output' : 'error'} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(status === 'succeeded' ? { status, ...(value !== undefined ? { output: value } : {}) } : { status, ...(value !== undefined ? { error: value } : {}) });
      props.onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }

  return (
    <dialog ref={ref} className="dialog" onClose={props.onClose} aria-labelledby="dialog-title" data-testid="signal-dialog">
      <h2 id="dialog-title">Send the signal “{props.signal}”?</h2>
      <div className="dialog-body">
        The step <strong>{props.step}</strong> waits for it. <em>Succeeded</em> completes the step with the output below; <em>failed</em> fails it for good, and the saga
        compensates or pauses as its definition says.
      </div>
      <fieldset className="radio-row">
        <label>
          <input type="radio" name="signal-status" value="succeeded" checked={status === 'succeeded'} onChange={() => setStatus('succeeded')} /> succeeded
        </label>
        <label>
          <input type="radio" name="signal-status" value="failed" checked={status === 'failed'} onChange={() => setStatus('failed')} /> failed
        </label>
      </fieldset>
      <label>
        {status === 'succeeded' ? 'Output' : 'Error'} <span className="muted">(JSON; empty for none)</span>
        <textarea name="signal-json" className="json-editor" rows={8} value={json} onChange={(e) => setJson(e.target.value)} spellCheck={false} />
      </label>
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={props.onClose} disabled={busy}>
          Back
        </button>
        <button type="button" className={status === 'failed' ? 'danger' : 'primary'} onClick={confirm} disabled={busy}>
          {busy ? 'Sending…' : 'Send signal'}
        </button>
      </div>
    </dialog>
  );
}
