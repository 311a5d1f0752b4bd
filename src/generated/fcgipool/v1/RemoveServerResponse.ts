// Original file: proto/fcgipool/v1/pool.proto


export interface RemoveServerResponse {
}

export interface RemoveServerResponse__Output {
}
