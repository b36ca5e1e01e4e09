// The client side of the control socket: one HTTP request over the unix socket with Bun's
// fetch. A connection failure or an answer that is not JSON comes back as a message.
import type { PlannedRequest } from "./plan.ts";

export type Answer = { ok: true; status: number; body: unknown } | { ok: false; message: string };

/** How often a read refused as `busy` (503, the server holds too many unread answers) is asked again. */
const BUSY_RETRIES = 10;

/** Waits the seconds a busy answer's Retry-After asked for. */
export type RetryWait = (seconds: number) => Promise<void>;

const sleep: RetryWait = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * Sends `request`; a read the server refused as busy is asked again after its Retry-After (a
 * follower such as `log -f` must not end because other clients were slow readers). Anything
 * else is sent once: a 503 to it means it was not carried out, and the caller says so.
 * `wait` is how the Retry-After is waited out (a test makes room instead of sleeping).
 */
export async function send(socket: string, request: PlannedRequest, wait: RetryWait = sleep): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await sendOnce(socket, request);
    if (request.method !== "GET" || attempt === BUSY_RETRIES || !answer.ok || answer.status !== 503 || answer.retryAfterS === undefined) return answer;
    await wait(answer.retryAfterS);
  }
}

async function sendOnce(socket: string, request: PlannedRequest): Promise<Answer & { retryAfterS?: number }> {
  let response: Response;
  try {
    response = await fetch(`http://tsinit${request.path}`, {
      unix: socket,
      method: request.method,
      headers: request.body === undefined ? {} : { "content-type": "application/json" },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      // start/stop/restart wait for the service, which may take longer than Bun's idle limit.
      timeout: false,
    });
  } catch (error) {
    return { ok: false, message: `cannot reach tsinit at ${socket}: ${describeFetchError(error)}` };
  }
  const text = await response.text().catch(() => "");
  // Honoured from 1 to 10 s; the server says 1.
  const retryAfter = Number(response.headers.get("retry-after"));
  const retryAfterS = Number.isInteger(retryAfter) && retryAfter >= 1 ? Math.min(retryAfter, 10) : undefined;
  try {
    return { ok: true, status: response.status, body: JSON.parse(text), retryAfterS };
  } catch {
    return { ok: false, message: `unexpected answer from ${socket} (HTTP ${response.status}): ${text.slice(0, 300)}` };
  }
}

function describeFetchError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT" || code === "FailedToOpenSocket") return "no such socket (is tsinit running? --socket or TSINIT_SOCKET pick another)";
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection refused (is tsinit running?)";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
