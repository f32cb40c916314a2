import type { Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';

/** An 'error' listener that logs the first error of an outage, not every reconnect attempt. */
export function logOncePerOutage(logger: Logger, worker: Worker, what: string): (error: Error) => void {
  let reported = false;
  worker.on('ready', () => (reported = false));
  return (error: Error) => {
    if (!reported) logger.warn(`${what}: ${error.message} (further errors are not logged until it reconnects)`);
    reported = true;
  };
}
