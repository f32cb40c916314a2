import { CreateDefinitions1763800000000 } from './1763800000000-create-definitions.js';

/** Every migration, oldest first. Listed explicitly so source and build load the same set. */
export const MIGRATIONS = [CreateDefinitions1763800000000];
