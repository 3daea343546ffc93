// Talks to the Glassbox REST API: JSON in, JSON out, errors as readable messages.

/** An error response from the API, with the server's explanation. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** Turn a FastAPI error body ({detail: string | [{loc, msg}]}) into one readable sentence. */
export function errorMessage(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((e) => {
        const where = (e.loc || []).filter((p) => p !== "body").join(".");
        return where ? `${where}: ${e.msg}` : e.msg;
      })
      .join("; ");
  }
  const reasons = { 401: "access token needed", 404: "not found", 409: "conflict", 413: "request too large",
    415: "unsupported content type", 422: "invalid request", 429: "server busy, try again shortly" };
  return `The server answered ${status}${reasons[status] ? ` (${reasons[status]})` : ""}.`;
}

/**
 * Call the API. `body` (an object) is sent as JSON. Resolves with the parsed JSON
 * (or null for 204), rejects with an ApiError whose message says what to fix.
 */
export async function api(path, { method = "GET", body, query, signal, raw = false, headers = {} } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v);
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  const init = { method, signal, headers: { ...headers } };
  if (body !== undefined) {
    if (body instanceof Blob || body instanceof ArrayBuffer) {
      // A Blob says what it holds (a CSV upload is text/csv); the server takes only documented types.
      init.body = body;
      init.headers["Content-Type"] = (body instanceof Blob && body.type) || "application/octet-stream";
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "Cannot reach the Glassbox server. Is it still running?", null);
  }
  if (!response.ok) {
    let payload = null;
    try { payload = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, errorMessage(response.status, payload), payload);
  }
  if (response.status === 204) return null;
  if (raw) return response;
  return response.json();
}

const TYPED = { float32: Float32Array, uint8: Uint8Array };

/** Decode one base64 array {dtype, shape, data} into {data: TypedArray, shape}. */
export function decodeArray(encoded) {
  if (!encoded || typeof encoded.data !== "string") return encoded;
  const bin = atob(encoded.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const Typed = TYPED[encoded.dtype];
  if (!Typed) throw new Error(`unknown array dtype ${encoded.dtype}`);
  // The server sends little-endian; every browser we target is little-endian too.
  return { data: new Typed(bytes.buffer, 0, bytes.length / Typed.BYTES_PER_ELEMENT), shape: encoded.shape };
}

/** Recursively decode every base64 array inside a response (arrays already decoded pass through). */
export function decodeArrays(value) {
  if (Array.isArray(value)) return value.map(decodeArrays);
  if (ArrayBuffer.isView(value)) return value;
  if (value && typeof value === "object") {
    if (typeof value.data === "string" && Array.isArray(value.shape) && value.dtype) return decodeArray(value);
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = decodeArrays(v);
    return out;
  }
  return value;
}

/**
 * Decode a binary message (app/arrays.py `pack_binary`): a little-endian uint32 header length, the JSON header,
 * padding to a multiple of 4, then the arrays' bytes. Every {dtype, shape, bin: [offset, nbytes]} in the header
 * becomes {data: TypedArray, shape} viewing the message's buffer (no copy), as `decodeArray` gives for base64.
 */
export function decodeBinary(buffer) {
  const size = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, size)));
  const base = 4 + size + ((4 - ((4 + size) % 4)) % 4);
  const walk = (value) => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") {
      if (Array.isArray(value.bin) && Array.isArray(value.shape) && value.dtype) {
        const Typed = TYPED[value.dtype];
        if (!Typed) throw new Error(`unknown array dtype ${value.dtype}`);
        const [offset, nbytes] = value.bin;
        return { data: new Typed(buffer, base + offset, nbytes / Typed.BYTES_PER_ELEMENT), shape: value.shape };
      }
      const out = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v);
      return out;
    }
    return value;
  };
  return walk(header);
}

/** Show an error in an element (or clear it with null). */
export function showError(element, error) {
  if (!element) return;
  element.textContent = error ? (error.message || String(error)) : "";
}
