// Camera scanning at the chair, for clinics with a phone or tablet and no keyboard-wedge scanner.
//
// Each code read from the camera is handed on exactly as a wedge scanner would type it: the AIM symbology
// identifier the decoder reports ("]d2" GS1 DataMatrix, "]C1" GS1-128, "]Q3" GS1 QR, "]Q1" a plain QR such as a
// GS1 Digital Link URI), then the data with each FNC1 separator as ASCII 29 (GS). The browser's BarcodeDetector
// is used where it reads DataMatrix; elsewhere (Chromium on Linux and Windows, Firefox, Safari) zxing-wasm, a
// WebAssembly build of zxing-cpp served by this service from /ui/vendor/ (never from a CDN), is loaded on first
// use. openCamera never rejects: a camera or decoder that cannot start is reported through onError, and the
// handle it returns is then already stopped.

import { t } from "./common.js";

const ZXING_MODULE = "/ui/vendor/zxing-wasm/reader/index.js";
const ZXING_WASM = "/ui/vendor/zxing-wasm/reader/zxing_reader.wasm";
// What ampoules and their boxes carry: GS1 DataMatrix, GS1-128, QR (GS1 QR or a Digital Link URI).
const ZXING_FORMATS = ["DataMatrix", "Code128", "QRCode"];
const NATIVE_FORMATS = ["data_matrix", "code_128", "qr_code"];
const DECODE_EVERY_MS = 200;
// A code still in view is not reported again: only once it has been out of view this long...
const GONE_MS = 2000;
// ...or this long after it was last reported (a second ampoule of the same lot looks exactly the same).
const REPEAT_MS = 3000;
// Frames larger than this (on the long side) are scaled down before decoding: faster, and ample for a label.
const MAX_SIDE = 1280;

/** Whether this browser can open a camera (getUserMedia exists only in a secure context: https or localhost). */
export function cameraAvailable() {
  return Boolean(globalThis.navigator?.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function");
}

/**
 * Show the camera in `video` and call `onText` with each code read, once per appearance; `onError` gets a sentence
 * for the person at the chair. Resolves to a handle whose stop() ends the camera and the decoding.
 */
export async function openCamera(video, onText, onError) {
  let stopped = false;
  let timer = null;
  let stream = null;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.pause();
    video.srcObject = null;
  };
  const fail = (message) => {
    if (stopped) return;
    stop();
    onError(message);
  };
  const handle = { stop };

  // Load the decoder while the browser asks for the camera; whichever fails, the other is let go.
  const [decoding, camera] = await Promise.allSettled([
    decoder(),
    navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    }),
  ]);
  if (camera.status === "fulfilled") stream = camera.value;
  if (camera.status === "rejected") {
    fail(startMessage(camera.reason));
    return handle;
  }
  if (decoding.status === "rejected") {
    fail(t("The barcode decoder could not be loaded: {reason}", { reason: reason(decoding.reason) }));
    return handle;
  }
  const decode = decoding.value;
  for (const track of stream.getVideoTracks()) {
    track.addEventListener("ended", () => fail(t("The camera stopped (unplugged, or used by another app).")));
  }
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  try {
    await video.play();
  } catch (error) {
    fail(startMessage(error));
    return handle;
  }

  const report = reporter(onText);
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const tick = async () => {
    if (stopped) return;
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0 && !document.hidden) {
      let texts;
      try {
        texts = await decode(frame(video, canvas, context));
      } catch (error) {
        fail(t("The barcode decoder failed: {reason}", { reason: reason(error) }));
        return;
      }
      if (!stopped) report(texts);
    }
    if (!stopped) timer = setTimeout(tick, DECODE_EVERY_MS);
  };
  tick();
  return handle;
}

/** The current video frame as RGBA ImageData, scaled so its long side is at most MAX_SIDE. */
function frame(video, canvas, context) {
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  const width = Math.round(video.videoWidth * scale);
  const height = Math.round(video.videoHeight * scale);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  context.drawImage(video, 0, 0, width, height);
  return context.getImageData(0, 0, width, height);
}

/** A function taking each frame's decoded strings and passing on the ones not reported just before. */
function reporter(onText) {
  const seen = new Map(); // text -> { lastSeen, lastReported }
  return (texts) => {
    const now = performance.now();
    for (const text of new Set(texts)) {
      const entry = seen.get(text);
      if (!entry || now - entry.lastSeen >= GONE_MS || now - entry.lastReported >= REPEAT_MS) {
        seen.set(text, { lastSeen: now, lastReported: now });
        onText(text);
      } else {
        entry.lastSeen = now;
      }
    }
    for (const [text, entry] of seen) if (now - entry.lastSeen >= GONE_MS) seen.delete(text);
  };
}

let zxing = null;

/** (ImageData) => Promise<string[]>: the native BarcodeDetector if it reads DataMatrix, else zxing-wasm. */
async function decoder() {
  if ("BarcodeDetector" in globalThis) {
    const supported = await globalThis.BarcodeDetector.getSupportedFormats().catch(() => []);
    if (supported.includes("data_matrix")) {
      const detector = new globalThis.BarcodeDetector({ formats: NATIVE_FORMATS.filter((f) => supported.includes(f)) });
      // BarcodeDetector reports no symbology identifier, so there is none to send: its rawValue (GS1 data with
      // GS separators, or a URI) is exactly what a wedge scanner without AIM prefixes types, which the service reads.
      return async (image) => (await detector.detect(image)).map((barcode) => barcode.rawValue).filter(Boolean);
    }
  }
  zxing ??= loadZxing().catch((error) => {
    zxing = null; // let the next attempt try again
    throw error;
  });
  const { readBarcodes } = await zxing;
  const options = {
    formats: ZXING_FORMATS,
    // "Plain": the bytes as encoded, FNC1 as GS, no leading FNC1 (the default "HRI" would give "(01)…(10)…").
    textMode: "Plain",
    tryHarder: true,
    tryRotate: true,
    tryInvert: false,
    maxNumberOfSymbols: 4,
  };
  return async (image) => {
    // zxing-wasm turns the RGBA ImageData into one byte of luminance per pixel before decoding.
    const results = await readBarcodes(image, options);
    return results.filter((r) => r.isValid && r.text).map((r) => r.symbologyIdentifier + r.text);
  };
}

/** zxing-wasm's reader with its WebAssembly binary from this service (its default would fetch it from a CDN). */
async function loadZxing() {
  const module = await import(ZXING_MODULE);
  await module.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? ZXING_WASM : prefix + path) },
    fireImmediately: true,
  });
  return module;
}

function startMessage(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return t("The camera may not be used: allow it for this site in the browser's settings.");
    case "NotFoundError":
    case "OverconstrainedError":
      return t("No camera was found on this device.");
    case "NotReadableError":
    case "AbortError":
      return t("The camera is in use by another app, or could not be started.");
    default:
      return t("The camera could not be started: {reason}", { reason: reason(error) });
  }
}

function reason(error) {
  return String((error && error.message) || error);
}
