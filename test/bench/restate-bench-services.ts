/** The session services, as the restate bench's child endpoint serves them (`services` export). */
import { restateServices } from '../../src/restate/services.js';

export const services = restateServices();
