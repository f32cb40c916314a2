import { CreateDefinitions1763800000000 } from './1763800000000-create-definitions.js';
import { CreateSagas1763800100000 } from './1763800100000-create-sagas.js';
import { AddAttemptDeadline1763800200000 } from './1763800200000-add-attempt-deadline.js';
import { ReplayAndSearch1763800300000 } from './1763800300000-replay-and-search.js';
import { ApiKeysAndAudit1763800400000 } from './1763800400000-api-keys-and-audit.js';
import { CircuitWait1763800500000 } from './1763800500000-circuit-wait.js';
import { HotSagaUpdates1763800600000 } from './1763800600000-hot-saga-updates.js';
import { CarriedAttempts1763800700000 } from './1763800700000-carried-attempts.js';
import { OutstandingAttempts1763800800000 } from './1763800800000-outstanding-attempts.js';
import { CallbacksAndSignals1763800900000 } from './1763800900000-callbacks-and-signals.js';

/** Every migration, oldest first. Listed explicitly so source and build load the same set. */
export const MIGRATIONS = [CreateDefinitions1763800000000, CreateSagas1763800100000, AddAttemptDeadline1763800200000, ReplayAndSearch1763800300000, ApiKeysAndAudit1763800400000, CircuitWait1763800500000, HotSagaUpdates1763800600000, CarriedAttempts1763800700000, OutstandingAttempts1763800800000, CallbacksAndSignals1763800900000];
