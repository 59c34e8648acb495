/**
 * jest globalTeardown: nothing to clean up.
 *
 * Global setup only installs `.venv-moto/`, which is kept between runs on purpose (installing takes
 * about a minute). Every moto server and fault proxy belongs to one test file and is stopped in its
 * `afterAll`; moto.ts also kills its child when the worker process exits.
 */
export default async function globalTeardown(): Promise<void> {
  // Intentionally empty.
}
