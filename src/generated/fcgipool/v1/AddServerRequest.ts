// Original file: proto/fcgipool/v1/pool.proto


export interface AddServerRequest {
  'name'?: (string);
  'address'?: (string);
  'max_connections'?: (number);
  'max_idle'?: (number);
  'reuse'?: (string);
  'purge_delay_ms'?: (number);
  'max_requests_per_connection'?: (number);
  'connect_timeout_ms'?: (number);
  'read_timeout_ms'?: (number);
  '_max_connections'?: "max_connections";
  '_max_idle'?: "max_idle";
  '_reuse'?: "reuse";
  '_purge_delay_ms'?: "purge_delay_ms";
  '_max_requests_per_connection'?: "max_requests_per_connection";
  '_connect_timeout_ms'?: "connect_timeout_ms";
  '_read_timeout_ms'?: "read_timeout_ms";
}

export interface AddServerRequest__Output {
  'name': (string);
  'address': (string);
  'max_connections'?: (number);
  'max_idle'?: (number);
  'reuse'?: (string);
  'purge_delay_ms'?: (number);
  'max_requests_per_connection'?: (number);
  'connect_timeout_ms'?: (number);
  'read_timeout_ms'?: (number);
  '_max_connections'?: "max_connections";
  '_max_idle'?: "max_idle";
  '_reuse'?: "reuse";
  '_purge_delay_ms'?: "purge_delay_ms";
  '_max_requests_per_connection'?: "max_requests_per_connection";
  '_connect_timeout_ms'?: "connect_timeout_ms";
  '_read_timeout_ms'?: "read_timeout_ms";
}
