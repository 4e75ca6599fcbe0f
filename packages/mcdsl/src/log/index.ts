export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  logLevels,
  withRequestId,
} from "./logger.js";
