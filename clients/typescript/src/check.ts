// Tiny assertion helpers for the flow. Every check is counted; the flow ends
// with the plain "N passed, N failed" line.

import { inspect } from "node:util";

let passed = 0;
let failed = 0;

export class CheckFailed extends Error {}

function show(value: unknown): string {
  return inspect(value, { depth: 6, breakLength: Infinity });
}

/** Records one check; throws (ending the flow) when it does not hold. */
export function check(what: string, ok: boolean, detail?: () => string): void {
  if (ok) {
    passed += 1;
    return;
  }
  failed += 1;
  const message = detail === undefined ? what : `${what}: ${detail()}`;
  console.error(`FAIL ${message}`);
  throw new CheckFailed(message);
}

export function equal<T>(what: string, actual: T, expected: T): void {
  check(what, Object.is(actual, expected), () => `got ${show(actual)}, expected ${show(expected)}`);
}

export function deepEqual<T>(what: string, actual: T, expected: T): void {
  check(what, show(actual) === show(expected), () => `got ${show(actual)}, expected ${show(expected)}`);
}

/** Narrows an optional value after recording that it is present. */
export function present<T>(what: string, value: T | undefined | null): T {
  if (value === undefined || value === null) {
    check(`${what} is present`, false, () => `got ${show(value)}`);
    throw new CheckFailed(what); // not reached: check throws
  }
  check(`${what} is present`, true);
  return value;
}

/** The shape of every openapi-fetch result, success or error branch. */
interface FetchResult<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/** Expects a success status and returns the typed body. */
export function expectData<D, E>(what: string, result: FetchResult<D, E>, status: number): D {
  const got = result.response.status;
  check(`${what}: status ${status}`, got === status, () => `got ${got} ${show(result.error ?? result.data)}`);
  return present(`${what}: body`, result.data);
}

/** Expects a success status whose response has no body (204). */
export function expectEmpty<D, E>(what: string, result: FetchResult<D, E>, status: number): void {
  const got = result.response.status;
  check(`${what}: status ${status}`, got === status, () => `got ${got} ${show(result.error ?? result.data)}`);
  check(`${what}: ok`, result.response.ok && result.error === undefined, () => show(result.error));
}

/** Expects an error status and returns the typed error body. */
export function expectError<D, E>(what: string, result: FetchResult<D, E>, status: number): E {
  const got = result.response.status;
  check(`${what}: status ${status}`, got === status, () => `got ${got} ${show(result.data ?? result.error)}`);
  check(`${what}: no data`, result.data === undefined, () => show(result.data));
  return present(`${what}: error body`, result.error);
}

export function summary(): { passed: number; failed: number } {
  return { passed, failed };
}
