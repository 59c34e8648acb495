import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the CodePipeline API's job and execution calls, which moto does not implement,
 * speaking the real protocol (AWS JSON 1.1: `POST /`, `X-Amz-Target: CodePipeline_20150709.<Op>`).
 * It answers from a table of canned responses and records every call, so a bundle can run its
 * CodePipeline side for real over HTTP: point it here with `AWS_ENDPOINT_URL_CODEPIPELINE`.
 */
export interface FakeCodePipeline {
  readonly endpoint: string;
  /** Every call in order: operation name and parsed request body. */
  readonly calls: Array<{ operation: string; input: any }>;
  stop(): Promise<void>;
}

/** Starts the fake; `responses` maps an operation name to its JSON response (default `{}`). */
export async function startFakeCodePipeline(responses: Record<string, unknown> = {}): Promise<FakeCodePipeline> {
  const calls: Array<{ operation: string; input: any }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^CodePipeline_20150709\./, '');
      calls.push({ operation, input: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `fake-${calls.length}` });
      res.end(JSON.stringify(responses[operation] ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
