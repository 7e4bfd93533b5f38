// The API's error envelope (docs/errors.md) and the one error class the simulator
// throws inside handlers; the server turns it into the documented response.

/** Error codes the spec's ApiError enum allows. */
export type ApiErrorCode =
  | 'invalid_parameter'
  | 'missing_parameter'
  | 'authentication_required'
  | 'insufficient_permissions'
  | 'not_found'
  | 'conflict'
  | 'limit_exceeded'
  | 'idempotency_conflict'
  | 'payload_too_large'
  | 'validation_error'
  | 'rate_limit_exceeded'
  | 'service_unavailable'
  | 'internal_error';

/** One accumulated validation failure (spec: ApiErrorDetail). */
export interface ErrorDetail {
  field: string;
  code: string;
  message: string;
}

// docs/errors.md: retryable is true only for 429, 500 and 503.
const RETRYABLE: ReadonlySet<ApiErrorCode> = new Set(['rate_limit_exceeded', 'internal_error', 'service_unavailable']);

const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'invalid_parameter',
  401: 'authentication_required',
  403: 'insufficient_permissions',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_error',
  502: 'service_unavailable',
  503: 'service_unavailable',
  504: 'service_unavailable',
};

/** The documented code for an HTTP status (used by injected failures). */
export function codeForStatus(status: number): ApiErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'invalid_parameter');
}

/** An API error answered with the standard envelope. */
export class SimError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly param?: string;
  readonly errors?: ErrorDetail[];
  readonly retryAfterSeconds?: number;
  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    extra: { param?: string; errors?: ErrorDetail[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'SimError';
    this.status = status;
    this.code = code;
    if (extra.param !== undefined) this.param = extra.param;
    if (extra.errors !== undefined && extra.errors.length > 0) this.errors = extra.errors;
    if (extra.retryAfterSeconds !== undefined) this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}

export function invalidParam(param: string, message: string, errors?: ErrorDetail[]): SimError {
  return new SimError(400, 'invalid_parameter', message, { param, errors: errors ?? [{ field: param, code: 'invalid', message }] });
}

export function missingParam(param: string): SimError {
  const message = `Missing required parameter: ${param}.`;
  return new SimError(400, 'missing_parameter', message, { param, errors: [{ field: param, code: 'required', message }] });
}

export function notFound(what: string, param?: string): SimError {
  return new SimError(404, 'not_found', `${what} not found.`, param === undefined ? {} : { param });
}

export function conflict(message: string, param?: string): SimError {
  return new SimError(409, 'conflict', message, param === undefined ? {} : { param });
}

/** The JSON error envelope for `err`. */
export function errorEnvelope(err: SimError, requestId: string): unknown {
  const error: Record<string, unknown> = {
    code: err.code,
    message: err.message,
    doc_url: `https://sendmux.ai/docs/api/errors#${err.code}`,
    retryable: RETRYABLE.has(err.code),
  };
  if (err.param !== undefined) error.param = err.param;
  if (err.errors !== undefined) error.errors = err.errors;
  return { ok: false, error, meta: { request_id: requestId } };
}
