import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from './context.js';
import { discardRestOfBody, sendError } from './http.js';

/**
 * The admin token the admin API and the dashboard are behind. Without one both are off: the
 * request's body is drained and the answer is a 404 that says how to turn `what` on.
 */
export function adminTokenOr404(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  what: 'the admin API' | 'the dashboard',
): string | undefined {
  const token = ctx.config.adminToken;
  if (token) return token;
  discardRestOfBody(req);
  sendError(res, 'openai', 404, `${what} is disabled: set SLUICE_ADMIN_TOKEN (or --admin-token) to enable it`, 'admin_disabled');
  return undefined;
}
