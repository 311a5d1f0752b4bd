// Original file: proto/fcgipool/v1/pool.proto


export interface ListServersRequest {
}

export interface ListServersRequest__Output {
}
