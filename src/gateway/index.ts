/**
 * The `sluice/gateway` entry: the HTTP gateway and its configuration. Kept apart from the
 * library entry (`sluice`) so that importing ResponseCache loads no server dependency
 * (pino, prom-client, undici's client pool), nor anything of src/gateway/.
 */
export {
  ConfigError,
  type ConfigInput,
  parseConfig,
  type SluiceConfig,
} from '../config.js';
export { UsageError } from '../cli-options.js';
export { createGateway, type Gateway, type GatewayOptions } from './server.js';
