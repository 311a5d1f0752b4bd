// Original file: proto/fcgipool/v1/pool.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddServerRequest as _fcgipool_v1_AddServerRequest, AddServerRequest__Output as _fcgipool_v1_AddServerRequest__Output } from '../../fcgipool/v1/AddServerRequest.ts';
import type { AddServerResponse as _fcgipool_v1_AddServerResponse, AddServerResponse__Output as _fcgipool_v1_AddServerResponse__Output } from '../../fcgipool/v1/AddServerResponse.ts';
import type { ExecuteRequest as _fcgipool_v1_ExecuteRequest, ExecuteRequest__Output as _fcgipool_v1_ExecuteRequest__Output } from '../../fcgipool/v1/ExecuteRequest.ts';
import type { ExecuteResponse as _fcgipool_v1_ExecuteResponse, ExecuteResponse__Output as _fcgipool_v1_ExecuteResponse__Output } from '../../fcgipool/v1/ExecuteResponse.ts';
import type { GetLockStatsRequest as _fcgipool_v1_GetLockStatsRequest, GetLockStatsRequest__Output as _fcgipool_v1_GetLockStatsRequest__Output } from '../../fcgipool/v1/GetLockStatsRequest.ts';
import type { GetLockStatsResponse as _fcgipool_v1_GetLockStatsResponse, GetLockStatsResponse__Output as _fcgipool_v1_GetLockStatsResponse__Output } from '../../fcgipool/v1/GetLockStatsResponse.ts';
import type { IdleListChange as _fcgipool_v1_IdleListChange, IdleListChange__Output as _fcgipool_v1_IdleListChange__Output } from '../../fcgipool/v1/IdleListChange.ts';
import type { ListIdleRequest as _fcgipool_v1_ListIdleRequest, ListIdleRequest__Output as _fcgipool_v1_ListIdleRequest__Output } from '../../fcgipool/v1/ListIdleRequest.ts';
import type { ListIdleResponse as _fcgipool_v1_ListIdleResponse, ListIdleResponse__Output as _fcgipool_v1_ListIdleResponse__Output } from '../../fcgipool/v1/ListIdleResponse.ts';
import type { ListServersRequest as _fcgipool_v1_ListServersRequest, ListServersRequest__Output as _fcgipool_v1_ListServersRequest__Output } from '../../fcgipool/v1/ListServersRequest.ts';
import type { ListServersResponse as _fcgipool_v1_ListServersResponse, ListServersResponse__Output as _fcgipool_v1_ListServersResponse__Output } from '../../fcgipool/v1/ListServersResponse.ts';
import type { PurgeIdleRequest as _fcgipool_v1_PurgeIdleRequest, PurgeIdleRequest__Output as _fcgipool_v1_PurgeIdleRequest__Output } from '../../fcgipool/v1/PurgeIdleRequest.ts';
import type { PurgeIdleResponse as _fcgipool_v1_PurgeIdleResponse, PurgeIdleResponse__Output as _fcgipool_v1_PurgeIdleResponse__Output } from '../../fcgipool/v1/PurgeIdleResponse.ts';
import type { RemoveServerRequest as _fcgipool_v1_RemoveServerRequest, RemoveServerRequest__Output as _fcgipool_v1_RemoveServerRequest__Output } from '../../fcgipool/v1/RemoveServerRequest.ts';
import type { RemoveServerResponse as _fcgipool_v1_RemoveServerResponse, RemoveServerResponse__Output as _fcgipool_v1_RemoveServerResponse__Output } from '../../fcgipool/v1/RemoveServerResponse.ts';
import type { SetServerStateRequest as _fcgipool_v1_SetServerStateRequest, SetServerStateRequest__Output as _fcgipool_v1_SetServerStateRequest__Output } from '../../fcgipool/v1/SetServerStateRequest.ts';
import type { SetServerStateResponse as _fcgipool_v1_SetServerStateResponse, SetServerStateResponse__Output as _fcgipool_v1_SetServerStateResponse__Output } from '../../fcgipool/v1/SetServerStateResponse.ts';
import type { TakeoverRequest as _fcgipool_v1_TakeoverRequest, TakeoverRequest__Output as _fcgipool_v1_TakeoverRequest__Output } from '../../fcgipool/v1/TakeoverRequest.ts';
import type { TakeoverResponse as _fcgipool_v1_TakeoverResponse, TakeoverResponse__Output as _fcgipool_v1_TakeoverResponse__Output } from '../../fcgipool/v1/TakeoverResponse.ts';
import type { WatchIdleRequest as _fcgipool_v1_WatchIdleRequest, WatchIdleRequest__Output as _fcgipool_v1_WatchIdleRequest__Output } from '../../fcgipool/v1/WatchIdleRequest.ts';

export interface PoolControlClient extends grpc.Client {
  AddServer(argument: _fcgipool_v1_AddServerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  AddServer(argument: _fcgipool_v1_AddServerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  AddServer(argument: _fcgipool_v1_AddServerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  AddServer(argument: _fcgipool_v1_AddServerRequest, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  addServer(argument: _fcgipool_v1_AddServerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  addServer(argument: _fcgipool_v1_AddServerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  addServer(argument: _fcgipool_v1_AddServerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  addServer(argument: _fcgipool_v1_AddServerRequest, callback: grpc.requestCallback<_fcgipool_v1_AddServerResponse__Output>): grpc.ClientUnaryCall;
  
  Execute(argument: _fcgipool_v1_ExecuteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _fcgipool_v1_ExecuteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _fcgipool_v1_ExecuteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _fcgipool_v1_ExecuteRequest, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fcgipool_v1_ExecuteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fcgipool_v1_ExecuteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fcgipool_v1_ExecuteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fcgipool_v1_ExecuteRequest, callback: grpc.requestCallback<_fcgipool_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  
  GetLockStats(argument: _fcgipool_v1_GetLockStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  GetLockStats(argument: _fcgipool_v1_GetLockStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  GetLockStats(argument: _fcgipool_v1_GetLockStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  GetLockStats(argument: _fcgipool_v1_GetLockStatsRequest, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  getLockStats(argument: _fcgipool_v1_GetLockStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  getLockStats(argument: _fcgipool_v1_GetLockStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  getLockStats(argument: _fcgipool_v1_GetLockStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  getLockStats(argument: _fcgipool_v1_GetLockStatsRequest, callback: grpc.requestCallback<_fcgipool_v1_GetLockStatsResponse__Output>): grpc.ClientUnaryCall;
  
  ListIdle(argument: _fcgipool_v1_ListIdleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  ListIdle(argument: _fcgipool_v1_ListIdleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  ListIdle(argument: _fcgipool_v1_ListIdleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  ListIdle(argument: _fcgipool_v1_ListIdleRequest, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  listIdle(argument: _fcgipool_v1_ListIdleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  listIdle(argument: _fcgipool_v1_ListIdleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  listIdle(argument: _fcgipool_v1_ListIdleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  listIdle(argument: _fcgipool_v1_ListIdleRequest, callback: grpc.requestCallback<_fcgipool_v1_ListIdleResponse__Output>): grpc.ClientUnaryCall;
  
  ListServers(argument: _fcgipool_v1_ListServersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  ListServers(argument: _fcgipool_v1_ListServersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  ListServers(argument: _fcgipool_v1_ListServersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  ListServers(argument: _fcgipool_v1_ListServersRequest, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _fcgipool_v1_ListServersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _fcgipool_v1_ListServersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _fcgipool_v1_ListServersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _fcgipool_v1_ListServersRequest, callback: grpc.requestCallback<_fcgipool_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  
  PurgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  PurgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  PurgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  PurgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  purgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  purgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  purgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  purgeIdle(argument: _fcgipool_v1_PurgeIdleRequest, callback: grpc.requestCallback<_fcgipool_v1_PurgeIdleResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveServer(argument: _fcgipool_v1_RemoveServerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  RemoveServer(argument: _fcgipool_v1_RemoveServerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  RemoveServer(argument: _fcgipool_v1_RemoveServerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  RemoveServer(argument: _fcgipool_v1_RemoveServerRequest, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  removeServer(argument: _fcgipool_v1_RemoveServerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  removeServer(argument: _fcgipool_v1_RemoveServerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  removeServer(argument: _fcgipool_v1_RemoveServerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  removeServer(argument: _fcgipool_v1_RemoveServerRequest, callback: grpc.requestCallback<_fcgipool_v1_RemoveServerResponse__Output>): grpc.ClientUnaryCall;
  
  SetServerState(argument: _fcgipool_v1_SetServerStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  SetServerState(argument: _fcgipool_v1_SetServerStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  SetServerState(argument: _fcgipool_v1_SetServerStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  SetServerState(argument: _fcgipool_v1_SetServerStateRequest, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  setServerState(argument: _fcgipool_v1_SetServerStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  setServerState(argument: _fcgipool_v1_SetServerStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  setServerState(argument: _fcgipool_v1_SetServerStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  setServerState(argument: _fcgipool_v1_SetServerStateRequest, callback: grpc.requestCallback<_fcgipool_v1_SetServerStateResponse__Output>): grpc.ClientUnaryCall;
  
  Takeover(argument: _fcgipool_v1_TakeoverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  Takeover(argument: _fcgipool_v1_TakeoverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  Takeover(argument: _fcgipool_v1_TakeoverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  Takeover(argument: _fcgipool_v1_TakeoverRequest, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  takeover(argument: _fcgipool_v1_TakeoverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  takeover(argument: _fcgipool_v1_TakeoverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  takeover(argument: _fcgipool_v1_TakeoverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  takeover(argument: _fcgipool_v1_TakeoverRequest, callback: grpc.requestCallback<_fcgipool_v1_TakeoverResponse__Output>): grpc.ClientUnaryCall;
  
  WatchIdle(argument: _fcgipool_v1_WatchIdleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fcgipool_v1_IdleListChange__Output>;
  WatchIdle(argument: _fcgipool_v1_WatchIdleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_fcgipool_v1_IdleListChange__Output>;
  watchIdle(argument: _fcgipool_v1_WatchIdleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fcgipool_v1_IdleListChange__Output>;
  watchIdle(argument: _fcgipool_v1_WatchIdleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_fcgipool_v1_IdleListChange__Output>;
  
}

export interface PoolControlHandlers extends grpc.UntypedServiceImplementation {
  AddServer: grpc.handleUnaryCall<_fcgipool_v1_AddServerRequest__Output, _fcgipool_v1_AddServerResponse>;
  
  Execute: grpc.handleUnaryCall<_fcgipool_v1_ExecuteRequest__Output, _fcgipool_v1_ExecuteResponse>;
  
  GetLockStats: grpc.handleUnaryCall<_fcgipool_v1_GetLockStatsRequest__Output, _fcgipool_v1_GetLockStatsResponse>;
  
  ListIdle: grpc.handleUnaryCall<_fcgipool_v1_ListIdleRequest__Output, _fcgipool_v1_ListIdleResponse>;
  
  ListServers: grpc.handleUnaryCall<_fcgipool_v1_ListServersRequest__Output, _fcgipool_v1_ListServersResponse>;
  
  PurgeIdle: grpc.handleUnaryCall<_fcgipool_v1_PurgeIdleRequest__Output, _fcgipool_v1_PurgeIdleResponse>;
  
  RemoveServer: grpc.handleUnaryCall<_fcgipool_v1_RemoveServerRequest__Output, _fcgipool_v1_RemoveServerResponse>;
  
  SetServerState: grpc.handleUnaryCall<_fcgipool_v1_SetServerStateRequest__Output, _fcgipool_v1_SetServerStateResponse>;
  
  Takeover: grpc.handleUnaryCall<_fcgipool_v1_TakeoverRequest__Output, _fcgipool_v1_TakeoverResponse>;
  
  WatchIdle: grpc.handleServerStreamingCall<_fcgipool_v1_WatchIdleRequest__Output, _fcgipool_v1_IdleListChange>;
  
}

export interface PoolControlDefinition extends grpc.ServiceDefinition {
  AddServer: MethodDefinition<_fcgipool_v1_AddServerRequest, _fcgipool_v1_AddServerResponse, _fcgipool_v1_AddServerRequest__Output, _fcgipool_v1_AddServerResponse__Output>
  Execute: MethodDefinition<_fcgipool_v1_ExecuteRequest, _fcgipool_v1_ExecuteResponse, _fcgipool_v1_ExecuteRequest__Output, _fcgipool_v1_ExecuteResponse__Output>
  GetLockStats: MethodDefinition<_fcgipool_v1_GetLockStatsRequest, _fcgipool_v1_GetLockStatsResponse, _fcgipool_v1_GetLockStatsRequest__Output, _fcgipool_v1_GetLockStatsResponse__Output>
  ListIdle: MethodDefinition<_fcgipool_v1_ListIdleRequest, _fcgipool_v1_ListIdleResponse, _fcgipool_v1_ListIdleRequest__Output, _fcgipool_v1_ListIdleResponse__Output>
  ListServers: MethodDefinition<_fcgipool_v1_ListServersRequest, _fcgipool_v1_ListServersResponse, _fcgipool_v1_ListServersRequest__Output, _fcgipool_v1_ListServersResponse__Output>
  PurgeIdle: MethodDefinition<_fcgipool_v1_PurgeIdleRequest, _fcgipool_v1_PurgeIdleResponse, _fcgipool_v1_PurgeIdleRequest__Output, _fcgipool_v1_PurgeIdleResponse__Output>
  RemoveServer: MethodDefinition<_fcgipool_v1_RemoveServerRequest, _fcgipool_v1_RemoveServerResponse, _fcgipool_v1_RemoveServerRequest__Output, _fcgipool_v1_RemoveServerResponse__Output>
  SetServerState: MethodDefinition<_fcgipool_v1_SetServerStateRequest, _fcgipool_v1_SetServerStateResponse, _fcgipool_v1_SetServerStateRequest__Output, _fcgipool_v1_SetServerStateResponse__Output>
  Takeover: MethodDefinition<_fcgipool_v1_TakeoverRequest, _fcgipool_v1_TakeoverResponse, _fcgipool_v1_TakeoverRequest__Output, _fcgipool_v1_TakeoverResponse__Output>
  WatchIdle: MethodDefinition<_fcgipool_v1_WatchIdleRequest, _fcgipool_v1_IdleListChange, _fcgipool_v1_WatchIdleRequest__Output, _fcgipool_v1_IdleListChange__Output>
}
