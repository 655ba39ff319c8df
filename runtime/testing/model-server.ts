// A scripted model for tests and the demo: a real HTTP server on a random
// loopback port speaking the OpenAI-compatible chat completions API
// (`POST /v1/chat/completions`, JSON or server-sent events, and
// `GET /v1/models`), so any OpenAI-compatible client works against it
// unchanged. It answers each chat request with the next step of its script
// (model-script.ts), records what it was sent, and counts calls. Test
// infrastructure: delays run on the injected Clock, so a FakeClock plays a
// five-minute stream without waiting five minutes.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import {
  completion,
  completionChunks,
  errorBody,
  usageOf,
  type CompletionBase,
} from "./model-completion.js";
import {
  stepProblem,
  validateScript,
  type ChatRequest,
  type ErrorStep,
  type ModelScript,
  type ModelStep,
  type ReplyStep,
} from "./model-script.js";

const HOST = "127.0.0.1";
/** Request bodies larger than this are refused with 413. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Options of {@link startModelServer}. */
export interface ModelServerOptions {
  /** Drives `delayMs` and `chunkDelayMs` and the `created` field; default the system clock. */
  clock?: Clock;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  /** The model `GET /v1/models` lists, and the one answers name when a request names none. Default `scripted`. */
  model?: string;
  /** Port; default a random free one. Never 4222. */
  port?: number;
}

/** A running scripted model server. */
export interface ModelServer {
  /** The base URL an OpenAI-compatible client takes: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every chat request answered from the script, parsed, in arrival order. */
  readonly requests: readonly ChatRequest[];
  /** How many chat requests the script was asked to answer (bad requests are not counted). */
  readonly calls: number;
  /** Stop listening, drop open connections and end pending delays. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a scripted OpenAI-compatible model server on 127.0.0.1.
 *
 * @example
 * const model = await startModelServer([
 *   { toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] },
 *   { text: "2 + 3 = 5", chunkDelayMs: 1_000 },
 *   rateLimitError(2),
 * ]);
 * const client = new OpenAI({ baseURL: model.url, apiKey: "test" });
 * ...
 * expect(model.calls).toBe(2);
 * await model.close();
 */
export async function startModelServer(script: ModelScript, options: ModelServerOptions = {}): Promise<ModelServer> {
  validateScript(script);
  const clock = options.clock ?? systemClock;
  const defaultModel = options.model ?? "scripted";
  const requests: ChatRequest[] = [];
  /** Delays not yet over; each leaves when it ends, close() ends them all. */
  const delays = new Map<TimerHandle, () => void>();
  /** Answers being written; each leaves when done, close() waits for them. */
  const answering = new Set<Promise<void>>();
  let closed = false;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0 || closed) return resolve();
      const handle = clock.setTimeout(() => {
        delays.delete(handle);
        resolve();
      }, ms);
      delays.set(handle, resolve);
    });

  async function stepFor(request: ChatRequest, call: number): Promise<ModelStep | string> {
    const entry = typeof script === "function" ? script : script[call];
    if (entry === undefined) {
      return `the model script has no step for call ${call + 1} (it has ${(script as readonly unknown[]).length})`;
    }
    let step: unknown;
    try {
      step = typeof entry === "function" ? await entry(request, call) : entry;
    } catch (err) {
      return `the script's responder for call ${call + 1} threw: ${err instanceof Error ? err.message : String(err)}`;
    }
    const problem = stepProblem(step);
    return problem ? `the script's step for call ${call + 1} is invalid: ${problem}` : (step as ModelStep);
  }

  async function answerChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) return sendError(res, 413, "The request body is too large.", "invalid_request_error");
    let request: unknown;
    try {
      request = JSON.parse(body);
    } catch {
      return sendError(res, 400, "We could not parse the JSON body of your request.", "invalid_request_error");
    }
    const problem = requestProblem(request);
    if (problem) return sendError(res, 400, problem.message, "invalid_request_error", null, problem.param);
    const chat = request as ChatRequest;
    const call = requests.length;
    requests.push(chat);

    const step = await stepFor(chat, call);
    if (typeof step === "string") {
      // A fault of the test, not of the model: tell the client not to retry it.
      return sendError(res, 500, step, "script_error", null, null, { "x-should-retry": "false" });
    }
    await wait(step.delayMs ?? 0);
    if (res.destroyed || closed) return;
    if ("drop" in step) return void res.destroy();
    if ("error" in step) return sendScriptedError(res, step);

    const base: CompletionBase = {
      id: `chatcmpl-${call + 1}`,
      created: Math.floor(clock.now() / 1000),
      model: typeof chat.model === "string" && chat.model !== "" ? chat.model : defaultModel,
      call,
    };
    const usage = usageOf(step, chat, call);
    if (chat.stream !== true) return sendJson(res, 200, completion(step, base, usage), { "x-request-id": `req_${call + 1}` });
    await streamReply(res, step, completionChunks(step, base, usage, chat.stream_options?.include_usage === true), call);
  }

  async function streamReply(res: ServerResponse, step: ReplyStep, chunks: Record<string, unknown>[], call: number) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": `req_${call + 1}`,
    });
    res.flushHeaders();
    for (const [i, chunk] of chunks.entries()) {
      if (step.dropAfterChunks !== undefined && i >= step.dropAfterChunks) return void res.destroy();
      if (i > 0) await wait(step.chunkDelayMs ?? 0);
      if (res.destroyed || closed) return;
      await write(res, `data: ${JSON.stringify(chunk)}\n\n`);
    }
    if (step.dropAfterChunks !== undefined && step.dropAfterChunks <= chunks.length) return void res.destroy();
    await write(res, "data: [DONE]\n\n");
    res.end();
  }

  function route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    const path = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "");
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(res, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
    }
    if (path === "/v1/chat/completions" || path === "/chat/completions") {
      if (req.method === "POST") return answerChat(req, res);
      return sendError(res, 405, `Method ${req.method} is not allowed on ${path}; use POST.`, "invalid_request_error");
    }
    if ((path === "/v1/models" || path === "/models") && req.method === "GET") {
      return sendJson(res, 200, {
        object: "list",
        data: [{ id: defaultModel, object: "model", created: 0, owned_by: "troupe" }],
      });
    }
    return sendError(res, 404, `Unknown request URL: ${req.method} ${path}.`, "invalid_request_error", "unknown_url");
  }

  const server = createServer((req, res) => {
    const answer = (async () => {
      try {
        await route(req, res);
      } catch (err) {
        if (!res.headersSent && !res.destroyed) {
          sendError(res, 500, `the model server failed: ${err instanceof Error ? err.message : String(err)}`, "server_error");
        } else res.destroy();
      }
    })();
    answering.add(answer);
    void answer.finally(() => answering.delete(answer));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}/v1`,
    port,
    requests,
    get calls() {
      return requests.length;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        for (const [handle, resolve] of delays) {
          clock.clearTimeout(handle);
          resolve();
        }
        delays.clear();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.allSettled([...answering]);
        await stopped;
      })();
      return closing;
    },
  };
}

/** Why a parsed body is not a chat request, naming the field (`param`), or undefined. */
function requestProblem(body: unknown): { message: string; param: string } | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { message: "The request body must be a JSON object.", param: "body" };
  }
  const { messages, model, stream } = body as Record<string, unknown>;
  if (!Array.isArray(messages) || messages.length === 0) {
    return { message: "'messages' is required and must be a non-empty array.", param: "messages" };
  }
  const bad = messages.findIndex(
    (m) => typeof m !== "object" || m === null || typeof (m as Record<string, unknown>).role !== "string",
  );
  if (bad >= 0) return { message: `messages[${bad}] must be an object with a string 'role'.`, param: `messages[${bad}]` };
  if (model !== undefined && typeof model !== "string") return { message: "'model' must be a string.", param: "model" };
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") {
    return { message: "'stream' must be a boolean.", param: "stream" };
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (part: Buffer) => {
      size += part.length;
      if (size <= MAX_BODY_BYTES) parts.push(part);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function write(res: ServerResponse, text: string): Promise<void> {
  return new Promise((resolve) => res.write(text, () => resolve()));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, errorBody(message, type, code, param), headers);
}

/** Answers an error step; a type or message it leaves out is OpenAI's usual one for the status. */
function sendScriptedError(res: ServerResponse, step: ErrorStep): void {
  const e = step.error;
  const type = e.type ?? (e.status === 429 ? "requests" : e.status >= 500 ? "server_error" : "invalid_request_error");
  const message =
    e.message ??
    (e.status === 429
      ? "Rate limit reached for requests."
      : e.status >= 500
        ? "The server had an error while processing your request."
        : `The request failed with status ${e.status}.`);
  const headers: Record<string, string> = { ...e.headers };
  if (e.retryAfter !== undefined) headers["retry-after"] = String(e.retryAfter);
  sendError(res, e.status, message, type, e.code ?? null, e.param ?? null, headers);
}
