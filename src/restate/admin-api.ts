/**
 * The one call of Restate's admin API that setting up needs: registering a service endpoint
 * (`POST /deployments`), which makes the server discover the endpoint's services.
 */
import { SessionError } from '../core/errors.js';

/** What the server answered to a registration. */
export interface RegisteredDeployment {
  /** The deployment's id (`dp_...`). */
  id: string;
  /** The names of the services, objects and workflows it serves. */
  services: string[];
}

/** Options of {@link registerDeployment}. */
export interface RegisterDeploymentOptions {
  /**
   * Replace a deployment already registered at the same URL (default true): what a restarted
   * endpoint whose handlers changed needs. Restate otherwise refuses a changed endpoint at a known URL.
   */
  force?: boolean;
  /** Headers for the admin API (a token in front of a remote admin API). */
  headers?: Record<string, string>;
}

/**
 * Registers a service endpoint with a Restate server through its admin API (`POST /deployments`).
 * The endpoint must be running: the server calls it to discover its services.
 *
 * @param adminUrl - the admin API (`http://127.0.0.1:9070`).
 * @param endpointUrl - where the server reaches the endpoint (`http://127.0.0.1:9080`).
 * @param options - `force` (default true) and extra headers.
 * @returns the deployment's id and services.
 * @throws SessionError `SESSION_UNAVAILABLE` when the admin API cannot be reached or refuses (its
 *   status and answer in the message).
 * @example
 * ```ts
 * const { services } = await registerDeployment(server.adminUrl, endpoint.url);
 * ```
 */
export async function registerDeployment(
  adminUrl: string,
  endpointUrl: string,
  options: RegisterDeploymentOptions = {},
): Promise<RegisteredDeployment> {
  let response: Response;
  try {
    response = await fetch(new URL('/deployments', adminUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify({ uri: endpointUrl, force: options.force ?? true }),
    });
  } catch (error) {
    throw new SessionError(
      'SESSION_UNAVAILABLE',
      'runtime',
      `restate: cannot reach the admin API at ${adminUrl}`,
      {
        cause: error,
        retryable: true,
        details: { adminUrl, endpointUrl },
      },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new SessionError(
      'SESSION_UNAVAILABLE',
      'runtime',
      `restate: registering ${endpointUrl} at ${adminUrl} failed with HTTP ${response.status}: ${text.slice(0, 2000)}`,
      { retryable: response.status >= 500, details: { adminUrl, endpointUrl, status: response.status } },
    );
  }
  const body = JSON.parse(text) as { id: string; services: { name: string }[] };
  return { id: body.id, services: body.services.map((s) => s.name) };
}
