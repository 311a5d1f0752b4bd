// Plain grpc-js clients of the standard services, built from their own proto files as a
// generic tool would: grpc.health.v1.Health and grpc.reflection.v1(alpha).ServerReflection.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { healthClient } from '../../src/control/proto.ts';

type Callback<T> = (err: Error | null, res: T) => void;
type HealthStub = Client & {
  Check(req: { service: string }, cb: Callback<{ status: string }>): void;
  Watch(req: { service: string }): ClientReadableStream<{ status: string }>;
};

export function health(port: number): HealthStub {
  const Health = healthClient();
  return new Health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as HealthStub;
}

/** Check(service): "SERVING", "NOT_SERVING"; rejects with the gRPC error (NOT_FOUND for unknown). */
export function healthCheck(port: number, service: string): Promise<string> {
  const c = health(port);
  return new Promise<string>((resolve, reject) => {
    c.Check({ service }, (err, res) => {
      c.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

const require = createRequire(import.meta.url);
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection')), '../proto');

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}
type ReflectionStub = Client & {
  ServerReflectionInfo(): ClientDuplexStream<Record<string, string>, ReflectionResponse>;
};

/** One request on a ServerReflectionInfo stream of version v1 or v1alpha. */
export function reflect(
  port: number,
  version: 'v1' | 'v1alpha',
  request: Record<string, string>,
): Promise<ReflectionResponse> {
  const def = loadSync(`grpc/reflection/${version}/reflection.proto`, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [REFLECTION_PROTO],
  });
  const pkg = loadPackageDefinition(def) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: ServiceClientConstructor }> };
  };
  const Ctor = pkg.grpc.reflection[version].ServerReflection;
  const client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as ReflectionStub;
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (res: ReflectionResponse) => {
      call.end();
      client.close();
      resolve(res);
    });
    call.on('error', (err) => {
      client.close();
      reject(err);
    });
    call.write(request);
  });
}
