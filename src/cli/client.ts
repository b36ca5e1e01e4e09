// The client side of the control socket: one HTTP request over the unix socket with Bun's
// fetch. A connection failure or an answer that is not JSON comes back as a message.
import type { PlannedRequest } from "./plan.ts";

export type Answer = { ok: true; status: number; body: unknown } | { ok: false; message: string };

export async function send(socket: string, request: PlannedRequest): Promise<Answer> {
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
  try {
    return { ok: true, status: response.status, body: JSON.parse(text) };
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
