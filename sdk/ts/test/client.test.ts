// End-to-end test of the generated TypeScript client against a real Silt
// server: it starts `silt serve` (SILT_BIN, default ../../bin/silt) on a free
// loopback port with a fresh data directory, then drives StreamService and
// EventService over Connect (HTTP/1.1 and HTTP/2), gRPC and gRPC-Web.
//
// Every wait is bounded: a broken server fails a test, it never hangs it.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { fromJson, toJson, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, ValueSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

import type { Event, EventInputSchema } from "../src/gen/silt/v1/event_pb.js";
import { EventService, type SubscribeResponse } from "../src/gen/silt/v1/event_service_pb.js";
import { StreamService } from "../src/gen/silt/v1/stream_pb.js";

// sdk/ts, whether this runs from test/ or from dist/test/.
const here = dirname(fileURLToPath(import.meta.url));
const sdkRoot = resolve(here, here.split(sep).includes("dist") ? "../.." : "..");
const siltBin = process.env["SILT_BIN"] ?? resolve(sdkRoot, "../../bin/silt");

const PROJECT = "ts-sdk";
const CALL_TIMEOUT_MS = 5_000;
const STARTUP_TIMEOUT_MS = 15_000;
const RECEIVE_TIMEOUT_MS = 5_000;

let server: ChildProcess | undefined;
let serverLog = "";
let dataDir = "";
let baseUrl = "";

/** Asks the kernel for a free loopback port. */
async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      if (addr === null || typeof addr === "string") {
        fail(new Error("no port"));
        return;
      }
      s.close(() => ok(addr.port));
    });
  });
}

/** sleep's timer does not keep the process alive on its own. */
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms).unref());

/** Polls GET /healthz until it says ok, the server exits, or time runs out. */
async function waitHealthy(url: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`silt exited early (${proc.exitCode ?? proc.signalCode}):\n${serverLog}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      const body = await res.text();
      if (res.status === 200 && body.trim() === "ok") {
        return;
      }
      last = `${res.status} ${body}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`silt not healthy after ${STARTUP_TIMEOUT_MS} ms (last: ${last}):\n${serverLog}`);
}

before(async () => {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), "silt-ts-"));
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(siltBin, ["serve", "--addr", `127.0.0.1:${port}`, "--data", dataDir, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (b: Buffer) => {
    serverLog += b.toString();
  };
  // Should this process end before the after hook (a signal from the test
  // runner, a broken pipe, an uncaught error), the server goes with it.
  const proc = server;
  const killServer = () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  process.once("exit", killServer);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.once(signal, () => {
      killServer();
      process.exit(code);
    });
  }
  server.stdout?.on("data", collect);
  server.stderr?.on("data", collect);
  const spawned = new Promise<void>((ok, fail) => {
    server?.once("spawn", ok);
    server?.once("error", (err) => fail(new Error(`cannot start ${siltBin}: ${err.message}`)));
  });
  await spawned;
  await waitHealthy(baseUrl, server);
});

after(async () => {
  const proc = server;
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((ok) => proc.once("exit", () => ok()));
    proc.kill("SIGTERM");
    const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
    if (timedOut) {
      proc.kill("SIGKILL");
      await Promise.race([exited, sleep(2_000)]);
    }
  }
  if (dataDir !== "") {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** The transports under test; each gets a stream of its own. */
const transports: { name: string; make: () => Transport }[] = [
  { name: "connect-http1.1", make: () => createConnectTransport({ baseUrl, httpVersion: "1.1" }) },
  { name: "connect-http2", make: () => createConnectTransport({ baseUrl, httpVersion: "2" }) },
  { name: "connect-json", make: () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }) },
  { name: "grpc", make: () => createGrpcTransport({ baseUrl }) },
  { name: "grpc-web", make: () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }) },
];

/** The envelope fields of an event to append. */
interface Envelope {
  id?: string;
  source?: string;
  subject?: string;
  time?: Timestamp;
  attributes?: Record<string, string>;
  metrics?: Record<string, number>;
}

/** An event to append (init) and what it should read back as (want). */
interface Input {
  init: MessageInitShape<typeof EventInputSchema>;
  want: Envelope & { type: string; json: JsonValue };
}

/** input builds an event whose data is the JSON value json. */
function input(type: string, json: JsonValue, env: Envelope = {}): Input {
  // google.protobuf.Value is generated as the Value message (not a plain
  // JsonValue) because it sits in a oneof: fromJson/toJson convert.
  return {
    init: { ...env, type, payload: { case: "data", value: fromJson(ValueSchema, json) } },
    want: { ...env, type, json },
  };
}

/** Checks that a read or delivered event is the appended one, at seq. */
function assertEvent(got: Event, input: Input, seq: bigint, stream: string): void {
  const want = input.want;
  const where = `event seq ${seq}`;
  assert.equal(got.project, PROJECT, where);
  assert.equal(got.stream, stream, where);
  assert.equal(got.seq, seq, where);
  if (want.id) {
    assert.equal(got.id, want.id, `${where}: id`);
  } else {
    assert.match(got.id, /^[0-9A-HJKMNP-TV-Z]{26}$/, `${where}: server-made id should be a ULID`);
  }
  assert.equal(got.type, want.type, `${where}: type`);
  // Unset is absent, not "": both come back as sent.
  assert.equal(got.source, want.source, `${where}: source`);
  assert.equal(got.subject, want.subject, `${where}: subject`);
  assert.ok(got.ingestTime, `${where}: ingest_time`);
  assert.ok(got.time, `${where}: time`);
  if (want.time) {
    assert.equal(timestampDate(got.time).getTime(), timestampDate(want.time).getTime(), `${where}: time`);
  } else {
    // No time: the event's ingest time.
    assert.equal(timestampDate(got.time).getTime(), timestampDate(got.ingestTime).getTime(), `${where}: time`);
  }
  const ingest = timestampDate(got.ingestTime).getTime();
  assert.ok(Math.abs(Date.now() - ingest) < 60_000, `${where}: ingest_time ${ingest} is not recent`);
  assert.deepEqual({ ...got.attributes }, { ...(want.attributes ?? {}) }, `${where}: attributes`);
  assert.deepEqual({ ...got.metrics }, { ...(want.metrics ?? {}) }, `${where}: metrics`);
  assert.equal(got.payload.case, "data", `${where}: payload`);
  if (got.payload.case === "data") {
    assert.deepEqual(toJson(ValueSchema, got.payload.value), want.json, `${where}: data`);
  }
  assert.equal(got.contentType, "application/json", `${where}: content_type`);
}

/** Expects promise to fail with a ConnectError of code. */
async function assertCode(promise: Promise<unknown>, code: Code, what: string): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    const ce = ConnectError.from(err);
    assert.equal(ce.code, code, `${what}: got ${Code[ce.code]} (${ce.message}), want ${Code[code]}`);
    return ce;
  }
  assert.fail(`${what}: succeeded, want ${Code[code]}`);
}

/** Reads a server stream message by message, each within a time bound. */
class Receiver {
  private readonly it: AsyncIterator<SubscribeResponse>;
  constructor(stream: AsyncIterable<SubscribeResponse>) {
    this.it = stream[Symbol.asyncIterator]();
  }
  async next(): Promise<SubscribeResponse> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`no Subscribe message within ${RECEIVE_TIMEOUT_MS} ms`)), RECEIVE_TIMEOUT_MS);
    });
    try {
      const r = await Promise.race([this.it.next(), timeout]);
      assert.ok(!r.done, "Subscribe ended early");
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  }
  /** Receives events (skipping heartbeats) until it has count of them; fails on a caught-up marker. */
  async events(count: number): Promise<Event[]> {
    const out: Event[] = [];
    while (out.length < count) {
      const m = await this.next();
      switch (m.message.case) {
        case "batch":
          assert.ok(m.message.value.events.length > 0, "empty batch");
          out.push(...m.message.value.events);
          break;
        case "heartbeat":
          break;
        default:
          assert.fail(`unexpected ${m.message.case} while waiting for events`);
      }
    }
    assert.equal(out.length, count, "received more events than appended");
    return out;
  }
}

for (const { name, make } of transports) {
  describe(`over ${name}`, { timeout: 20_000 }, () => {
    const stream = `orders-${name}`;
    let streams: Client<typeof StreamService>;
    let events: Client<typeof EventService>;
    const appended: Input[] = [];
    const opts = { timeoutMs: CALL_TIMEOUT_MS };

    before(() => {
      const transport = make();
      streams = createClient(StreamService, transport);
      events = createClient(EventService, transport);
    });

    test("CreateStream, then AlreadyExists", async () => {
      const res = await streams.createStream({ project: PROJECT, stream }, opts);
      assert.ok(res.stream);
      assert.equal(res.stream.project, PROJECT);
      assert.equal(res.stream.name, stream);
      assert.equal(res.stream.lastSeq, 0n);
      assert.equal(res.stream.firstSeq, 1n);
      assert.equal(res.stream.eventCount, 0n);
      assert.ok(res.stream.createTime, "create_time");
      await assertCode(streams.createStream({ project: PROJECT, stream }, opts), Code.AlreadyExists, "second CreateStream");
    });

    test("Append a batch and Read it back", async () => {
      const when = timestampFromDate(new Date("2025-01-02T03:04:05.678Z"));
      const batch = [
        input(
          "order.created",
          { order: "A-1", total: 12.5, items: [{ sku: "x", qty: 2 }], paid: true, note: null },
          {
            id: `${name}-1`,
            source: "/shop/eu",
            subject: "A-1",
            time: when,
            attributes: { region: "eu", channel: "web" },
            metrics: { total: 12.5, items: 2 },
          },
        ),
        input("order.paid", "a string payload", { attributes: { region: "us" } }),
        input("order.shipped", [1, 2.25, -3, "four", false], { metrics: { weight_kg: 0.75 } }),
        input("ping", 42, { source: "" }), // an empty source, not none
      ];
      const res = await events.append({ project: PROJECT, stream, events: batch.map((b) => b.init) }, opts);
      assert.equal(res.firstSeq, 1n);
      assert.equal(res.lastSeq, BigInt(batch.length));
      assert.equal(res.duplicate, false);
      assert.ok(res.ingestTime, "ingest_time");
      appended.push(...batch);

      const page = await events.read({ project: PROJECT, stream, start: { case: "fromSeq", value: 0n }, limit: 100 }, opts);
      assert.equal(page.events.length, batch.length);
      page.events.forEach((e, i) => assertEvent(e, batch[i]!, BigInt(i + 1), stream));
      assert.equal(page.firstSeq, 1n);
      assert.equal(page.lastSeq, BigInt(batch.length));
      assert.equal(page.nextSeq, BigInt(batch.length + 1));
      assert.equal(page.upToDate, true);
      const ingest = page.events.map((e) => timestampDate(e.ingestTime!).getTime());
      assert.deepEqual(ingest, [...ingest].sort((a, b) => a - b), "ingest_time never decreases");

      // A page in the middle.
      const mid = await events.read({ project: PROJECT, stream, start: { case: "fromSeq", value: 2n }, limit: 2 }, opts);
      assert.deepEqual(mid.events.map((e) => e.seq), [2n, 3n]);
      assert.equal(mid.nextSeq, 4n);
      assert.equal(mid.upToDate, false);
    });

    test("an idempotent producer's retry is a duplicate", async () => {
      const req = {
        project: PROJECT,
        stream,
        producer: { id: `producer-${name}`, epoch: 1n, seq: 0n },
        events: [input("order.created", { n: 5 }).init],
      };
      const first = await events.append(req, opts);
      assert.equal(first.duplicate, false);
      assert.equal(first.firstSeq, BigInt(appended.length + 1));
      const retry = await events.append(req, opts);
      assert.equal(retry.duplicate, true);
      assert.equal(retry.firstSeq, first.firstSeq);
      assert.equal(retry.lastSeq, first.lastSeq);
      appended.push(input("order.created", { n: 5 }));
    });

    test("GetStream and ListStreams see the events", async () => {
      const res = await streams.getStream({ project: PROJECT, stream }, opts);
      assert.equal(res.stream?.lastSeq, BigInt(appended.length));
      assert.equal(res.stream?.firstSeq, 1n);
      assert.equal(res.stream?.eventCount, BigInt(appended.length));
      assert.ok((res.stream?.bytes ?? 0n) > 0n, "bytes");
      const list = await streams.listStreams({ project: PROJECT, prefix: stream }, opts);
      assert.deepEqual(
        list.streams.map((s) => s.name),
        [stream],
      );
    });

    test("Subscribe: backlog, caught up, then live with no gap or duplicate", async () => {
      const abort = new AbortController();
      const bound = setTimeout(() => abort.abort(new Error("subscription test ran too long")), 15_000);
      try {
        const sub = new Receiver(
          events.subscribe(
            {
              project: PROJECT,
              stream,
              start: { case: "fromSeq", value: 0n },
              heartbeatInterval: { seconds: 0n, nanos: 200_000_000 },
            },
            { signal: abort.signal },
          ),
        );
        const backlog = await sub.events(appended.length);
        backlog.forEach((e, i) => assertEvent(e, appended[i]!, BigInt(i + 1), stream));
        const marker = await sub.next();
        assert.equal(marker.message.case, "caughtUp", `after the backlog: ${marker.message.case}`);
        if (marker.message.case === "caughtUp") {
          assert.equal(marker.message.value.lastSeq, BigInt(appended.length));
          assert.equal(marker.message.value.nextSeq, BigInt(appended.length + 1));
        }

        // Live: three appends, one after another, while subscribed.
        for (const size of [1, 3, 2]) {
          const batch = Array.from({ length: size }, (_, i) =>
            input("live.tick", { n: appended.length + i + 1 }, { attributes: { batch: String(size) } }),
          );
          const from = BigInt(appended.length + 1);
          const res = await events.append({ project: PROJECT, stream, events: batch.map((b) => b.init) }, opts);
          assert.equal(res.firstSeq, from);
          const live = await sub.events(size);
          live.forEach((e, i) => assertEvent(e, batch[i]!, from + BigInt(i), stream));
          appended.push(...batch);
        }

        // Idle: a heartbeat arrives and says where to resume.
        let hb: SubscribeResponse | undefined;
        for (let i = 0; i < 10 && hb === undefined; i++) {
          const m = await sub.next();
          assert.notEqual(m.message.case, "batch", "an event nobody appended");
          if (m.message.case === "heartbeat") {
            hb = m;
          }
        }
        assert.ok(hb && hb.message.case === "heartbeat", "heartbeat");
        assert.equal(hb.message.value.lastSeq, BigInt(appended.length));
        assert.equal(hb.message.value.nextSeq, BigInt(appended.length + 1));
      } finally {
        clearTimeout(bound);
        abort.abort();
      }
    });

    test("Subscribe from the tail sees only new events", async () => {
      const abort = new AbortController();
      const bound = setTimeout(() => abort.abort(new Error("subscription test ran too long")), 15_000);
      try {
        const sub = new Receiver(
          events.subscribe({ project: PROJECT, stream, start: { case: "fromTail", value: true } }, { signal: abort.signal }),
        );
        const marker = await sub.next();
        assert.equal(marker.message.case, "caughtUp");
        const batch = [input("tail.new", { tail: true })];
        await events.append({ project: PROJECT, stream, events: batch.map((b) => b.init) }, opts);
        const [e] = await sub.events(1);
        assertEvent(e!, batch[0]!, BigInt(appended.length + 1), stream);
        appended.push(...batch);
      } finally {
        clearTimeout(bound);
        abort.abort();
      }
    });

    test("bad requests are InvalidArgument", async () => {
      await assertCode(events.append({ project: PROJECT, stream, events: [] }, opts), Code.InvalidArgument, "no events");
      await assertCode(
        events.append({ project: "Not A Project", stream, events: [input("t", 1).init] }, opts),
        Code.InvalidArgument,
        "bad project",
      );
      await assertCode(
        events.append({ project: PROJECT, stream, events: [input(" bad type", 1).init] }, opts),
        Code.InvalidArgument,
        "bad type",
      );
      await assertCode(
        events.read({ project: PROJECT, stream, limit: 10_001 }, opts),
        Code.InvalidArgument,
        "limit too large",
      );
      await assertCode(
        (async () => {
          for await (const _ of events.subscribe({ project: "", stream }, opts)) {
            // nothing arrives
          }
        })(),
        Code.InvalidArgument,
        "Subscribe without project",
      );
      // Nothing was written by the rejected appends.
      const res = await streams.getStream({ project: PROJECT, stream }, opts);
      assert.equal(res.stream?.lastSeq, BigInt(appended.length));
    });

    test("a missing stream is NotFound; Subscribe waits for auto-create", async () => {
      const missing = `missing-${name}`;
      await assertCode(streams.getStream({ project: PROJECT, stream: missing }, opts), Code.NotFound, "GetStream");
      await assertCode(
        events.read({ project: PROJECT, stream: missing, start: { case: "fromSeq", value: 0n } }, opts),
        Code.NotFound,
        "Read",
      );
      await assertCode(streams.deleteStream({ project: PROJECT, stream: missing }, opts), Code.NotFound, "DeleteStream");
      // With auto-create (the server's default) an Append will make the
      // stream, so a subscriber is caught up at 0 and waits for it.
      const abort = new AbortController();
      const bound = setTimeout(() => abort.abort(new Error("Subscribe to a missing stream sent nothing")), 10_000);
      try {
        const sub = new Receiver(events.subscribe({ project: PROJECT, stream: missing }, { signal: abort.signal }));
        const first = await sub.next();
        assert.equal(first.message.case, "caughtUp", `first message: ${first.message.case}`);
        if (first.message.case === "caughtUp") {
          assert.equal(first.message.value.lastSeq, 0n);
          assert.equal(first.message.value.nextSeq, 1n);
        }
      } finally {
        clearTimeout(bound);
        abort.abort();
      }
    });
  });
}
