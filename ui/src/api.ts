// The REST client: every call goes to /v1 with the session's bearer key. An error answer is an
// RFC 9457 problem (docs/api-errors.md); it is thrown as an ApiProblem carrying its numbers.
import type { Session } from "./session";

export interface Problem {
  status: number;
  code: string;
  detail?: string;
  [member: string]: unknown;
}

export class ApiProblem extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.status} ${problem.code}`);
    this.problem = problem;
  }
  get code(): string {
    return this.problem.code;
  }
  get status(): number {
    return this.problem.status;
  }
}

/** A network failure or an answer that is not JSON, as a problem the UI can explain. */
function transportProblem(status: number): ApiProblem {
  return new ApiProblem({ status, code: status === 0 ? "NETWORK_ERROR" : `HTTP_${status}` });
}

export class Api {
  constructor(private readonly session: Pick<Session, "key" | "marketId">) {}

  /** A path under the session's market: ``m("/orders")`` is /v1/markets/<id>/orders. */
  m(path: string): string {
    return `/v1/markets/${encodeURIComponent(this.session.marketId)}${path}`;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** A text answer (an export such as ``?format=csv``); an error is still a thrown problem. */
  async text(path: string): Promise<string> {
    let response: Response;
    try {
      response = await fetch(path, { headers: { Authorization: `Bearer ${this.session.key}` } });
    } catch {
      throw transportProblem(0);
    }
    if (response.ok) return response.text();
    const problem = (await response.json().catch(() => null)) as Problem | null;
    if (problem && typeof problem.code === "string") throw new ApiProblem(problem);
    throw transportProblem(response.status);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.session.key}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw transportProblem(0);
    }
    let payload: unknown = null;
    try {
      payload = await response.json();
    } catch {
      if (!response.ok) throw transportProblem(response.status);
    }
    if (!response.ok) {
      const problem = payload as Problem | null;
      if (problem && typeof problem.code === "string") throw new ApiProblem(problem);
      throw transportProblem(response.status);
    }
    return payload as T;
  }
}

/** A planned endpoint may not exist on this server yet: ``null`` (hide the panel) when the
 * route is unknown, the value otherwise. Other problems still throw. */
export async function optional<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiProblem && (error.code === "NOT_FOUND" || error.code === "METHOD_NOT_ALLOWED"))
      return null;
    throw error;
  }
}
