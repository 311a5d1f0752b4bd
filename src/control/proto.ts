// The proto files of the control plane, loaded once with the options the generated types in
// src/generated were made with (keepCase, longs and enums as strings, defaults, oneofs), so the
// handlers, the ctl client and reflection all see the same definitions.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as HEALTH_PROTO } from 'grpc-health-check';
import type { ProtoGrpcType } from '../generated/pool.ts';

const PROTO_ROOT = fileURLToPath(new URL('../../proto/', import.meta.url));
export const POOL_PROTO = join(PROTO_ROOT, 'fcgipool/v1/pool.proto');
export const POOL_SERVICE = 'fcgipool.v1.PoolControl';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

const require = createRequire(import.meta.url);
// Roots of the health and reflection protos (grpc-health-check exports the file's path;
// @grpc/reflection ships its protos next to its build), so reflection describes those services
// too. (Reflection serves one file per package, e.g. fcgipool_v1.proto, not the source files.)
const HEALTH_ROOT = join(dirname(HEALTH_PROTO), '../..');
const REFLECTION_ROOT = join(dirname(require.resolve('@grpc/reflection')), '../proto');

export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let pool: { definition: PackageDefinition; grpc: ProtoGrpcType } | undefined;

/** fcgipool.v1 as a package definition and as typed grpc-js constructors (client and service). */
export function poolProto(): { definition: PackageDefinition; grpc: ProtoGrpcType } {
  if (!pool) {
    const definition = loadSync('fcgipool/v1/pool.proto', { ...LOADER_OPTIONS, includeDirs: [PROTO_ROOT] });
    pool = { definition, grpc: loadPackageDefinition(definition) as unknown as ProtoGrpcType };
  }
  return pool;
}

/** A grpc.health.v1.Health client constructor (untyped: grpc-health-check ships no client types). */
export function healthClient(): ServiceClientConstructor {
  const definition = loadSync('health/v1/health.proto', { ...LOADER_OPTIONS, includeDirs: [HEALTH_ROOT] });
  const grpc = loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: ServiceClientConstructor } } };
  };
  return grpc.grpc.health.v1.Health;
}

/** Every service this server offers, for the reflection service: pool, health and reflection. */
export function reflectedDefinition(): PackageDefinition {
  return loadSync(
    ['fcgipool/v1/pool.proto', 'health/v1/health.proto', 'grpc/reflection/v1/reflection.proto'],
    {
      ...LOADER_OPTIONS,
      includeDirs: [PROTO_ROOT, HEALTH_ROOT, REFLECTION_ROOT],
    },
  );
}
