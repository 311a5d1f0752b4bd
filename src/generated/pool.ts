import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddServerRequest as _fcgipool_v1_AddServerRequest, AddServerRequest__Output as _fcgipool_v1_AddServerRequest__Output } from './fcgipool/v1/AddServerRequest.ts';
import type { AddServerResponse as _fcgipool_v1_AddServerResponse, AddServerResponse__Output as _fcgipool_v1_AddServerResponse__Output } from './fcgipool/v1/AddServerResponse.ts';
import type { ExecuteRequest as _fcgipool_v1_ExecuteRequest, ExecuteRequest__Output as _fcgipool_v1_ExecuteRequest__Output } from './fcgipool/v1/ExecuteRequest.ts';
import type { ExecuteResponse as _fcgipool_v1_ExecuteResponse, ExecuteResponse__Output as _fcgipool_v1_ExecuteResponse__Output } from './fcgipool/v1/ExecuteResponse.ts';
import type { GetLockStatsRequest as _fcgipool_v1_GetLockStatsRequest, GetLockStatsRequest__Output as _fcgipool_v1_GetLockStatsRequest__Output } from './fcgipool/v1/GetLockStatsRequest.ts';
import type { GetLockStatsResponse as _fcgipool_v1_GetLockStatsResponse, GetLockStatsResponse__Output as _fcgipool_v1_GetLockStatsResponse__Output } from './fcgipool/v1/GetLockStatsResponse.ts';
import type { IdleConnection as _fcgipool_v1_IdleConnection, IdleConnection__Output as _fcgipool_v1_IdleConnection__Output } from './fcgipool/v1/IdleConnection.ts';
import type { IdleListChange as _fcgipool_v1_IdleListChange, IdleListChange__Output as _fcgipool_v1_IdleListChange__Output } from './fcgipool/v1/IdleListChange.ts';
import type { ListIdleRequest as _fcgipool_v1_ListIdleRequest, ListIdleRequest__Output as _fcgipool_v1_ListIdleRequest__Output } from './fcgipool/v1/ListIdleRequest.ts';
import type { ListIdleResponse as _fcgipool_v1_ListIdleResponse, ListIdleResponse__Output as _fcgipool_v1_ListIdleResponse__Output } from './fcgipool/v1/ListIdleResponse.ts';
import type { ListServersRequest as _fcgipool_v1_ListServersRequest, ListServersRequest__Output as _fcgipool_v1_ListServersRequest__Output } from './fcgipool/v1/ListServersRequest.ts';
import type { ListServersResponse as _fcgipool_v1_ListServersResponse, ListServersResponse__Output as _fcgipool_v1_ListServersResponse__Output } from './fcgipool/v1/ListServersResponse.ts';
import type { PoolControlClient as _fcgipool_v1_PoolControlClient, PoolControlDefinition as _fcgipool_v1_PoolControlDefinition } from './fcgipool/v1/PoolControl.ts';
import type { PurgeIdleRequest as _fcgipool_v1_PurgeIdleRequest, PurgeIdleRequest__Output as _fcgipool_v1_PurgeIdleRequest__Output } from './fcgipool/v1/PurgeIdleRequest.ts';
import type { PurgeIdleResponse as _fcgipool_v1_PurgeIdleResponse, PurgeIdleResponse__Output as _fcgipool_v1_PurgeIdleResponse__Output } from './fcgipool/v1/PurgeIdleResponse.ts';
import type { RemoveServerRequest as _fcgipool_v1_RemoveServerRequest, RemoveServerRequest__Output as _fcgipool_v1_RemoveServerRequest__Output } from './fcgipool/v1/RemoveServerRequest.ts';
import type { RemoveServerResponse as _fcgipool_v1_RemoveServerResponse, RemoveServerResponse__Output as _fcgipool_v1_RemoveServerResponse__Output } from './fcgipool/v1/RemoveServerResponse.ts';
import type { Server as _fcgipool_v1_Server, Server__Output as _fcgipool_v1_Server__Output } from './fcgipool/v1/Server.ts';
import type { SetServerStateRequest as _fcgipool_v1_SetServerStateRequest, SetServerStateRequest__Output as _fcgipool_v1_SetServerStateRequest__Output } from './fcgipool/v1/SetServerStateRequest.ts';
import type { SetServerStateResponse as _fcgipool_v1_SetServerStateResponse, SetServerStateResponse__Output as _fcgipool_v1_SetServerStateResponse__Output } from './fcgipool/v1/SetServerStateResponse.ts';
import type { TakeoverRequest as _fcgipool_v1_TakeoverRequest, TakeoverRequest__Output as _fcgipool_v1_TakeoverRequest__Output } from './fcgipool/v1/TakeoverRequest.ts';
import type { TakeoverResponse as _fcgipool_v1_TakeoverResponse, TakeoverResponse__Output as _fcgipool_v1_TakeoverResponse__Output } from './fcgipool/v1/TakeoverResponse.ts';
import type { ThreadLockStats as _fcgipool_v1_ThreadLockStats, ThreadLockStats__Output as _fcgipool_v1_ThreadLockStats__Output } from './fcgipool/v1/ThreadLockStats.ts';
import type { WatchIdleRequest as _fcgipool_v1_WatchIdleRequest, WatchIdleRequest__Output as _fcgipool_v1_WatchIdleRequest__Output } from './fcgipool/v1/WatchIdleRequest.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fcgipool: {
    v1: {
      AddServerRequest: MessageTypeDefinition<_fcgipool_v1_AddServerRequest, _fcgipool_v1_AddServerRequest__Output>
      AddServerResponse: MessageTypeDefinition<_fcgipool_v1_AddServerResponse, _fcgipool_v1_AddServerResponse__Output>
      ExecuteRequest: MessageTypeDefinition<_fcgipool_v1_ExecuteRequest, _fcgipool_v1_ExecuteRequest__Output>
      ExecuteResponse: MessageTypeDefinition<_fcgipool_v1_ExecuteResponse, _fcgipool_v1_ExecuteResponse__Output>
      GetLockStatsRequest: MessageTypeDefinition<_fcgipool_v1_GetLockStatsRequest, _fcgipool_v1_GetLockStatsRequest__Output>
      GetLockStatsResponse: MessageTypeDefinition<_fcgipool_v1_GetLockStatsResponse, _fcgipool_v1_GetLockStatsResponse__Output>
      IdleConnection: MessageTypeDefinition<_fcgipool_v1_IdleConnection, _fcgipool_v1_IdleConnection__Output>
      IdleList: EnumTypeDefinition
      IdleListChange: MessageTypeDefinition<_fcgipool_v1_IdleListChange, _fcgipool_v1_IdleListChange__Output>
      ListIdleRequest: MessageTypeDefinition<_fcgipool_v1_ListIdleRequest, _fcgipool_v1_ListIdleRequest__Output>
      ListIdleResponse: MessageTypeDefinition<_fcgipool_v1_ListIdleResponse, _fcgipool_v1_ListIdleResponse__Output>
      ListServersRequest: MessageTypeDefinition<_fcgipool_v1_ListServersRequest, _fcgipool_v1_ListServersRequest__Output>
      ListServersResponse: MessageTypeDefinition<_fcgipool_v1_ListServersResponse, _fcgipool_v1_ListServersResponse__Output>
      PoolControl: SubtypeConstructor<typeof grpc.Client, _fcgipool_v1_PoolControlClient> & { service: _fcgipool_v1_PoolControlDefinition }
      ProtocolStatus: EnumTypeDefinition
      PurgeIdleRequest: MessageTypeDefinition<_fcgipool_v1_PurgeIdleRequest, _fcgipool_v1_PurgeIdleRequest__Output>
      PurgeIdleResponse: MessageTypeDefinition<_fcgipool_v1_PurgeIdleResponse, _fcgipool_v1_PurgeIdleResponse__Output>
      RemoveServerRequest: MessageTypeDefinition<_fcgipool_v1_RemoveServerRequest, _fcgipool_v1_RemoveServerRequest__Output>
      RemoveServerResponse: MessageTypeDefinition<_fcgipool_v1_RemoveServerResponse, _fcgipool_v1_RemoveServerResponse__Output>
      Server: MessageTypeDefinition<_fcgipool_v1_Server, _fcgipool_v1_Server__Output>
      ServerState: EnumTypeDefinition
      SetServerStateRequest: MessageTypeDefinition<_fcgipool_v1_SetServerStateRequest, _fcgipool_v1_SetServerStateRequest__Output>
      SetServerStateResponse: MessageTypeDefinition<_fcgipool_v1_SetServerStateResponse, _fcgipool_v1_SetServerStateResponse__Output>
      TakeoverRequest: MessageTypeDefinition<_fcgipool_v1_TakeoverRequest, _fcgipool_v1_TakeoverRequest__Output>
      TakeoverResponse: MessageTypeDefinition<_fcgipool_v1_TakeoverResponse, _fcgipool_v1_TakeoverResponse__Output>
      ThreadLockStats: MessageTypeDefinition<_fcgipool_v1_ThreadLockStats, _fcgipool_v1_ThreadLockStats__Output>
      WatchIdleRequest: MessageTypeDefinition<_fcgipool_v1_WatchIdleRequest, _fcgipool_v1_WatchIdleRequest__Output>
    }
  }
}

