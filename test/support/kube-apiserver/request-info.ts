// Splits a request URL into the attributes the apiserver authorizes and routes on
// (k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory).

/** What a request addresses. Non-resource requests (discovery, /version) only set path and verb. */
export interface RequestInfo {
  resourceRequest: boolean;
  path: string;
  verb: string;
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  /** Path segments after the subresource (node proxy paths). */
  rest: string[];
}

const VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
// Subresources of a namespace that are not the start of a namespaced resource path.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function isWatchParam(url: URL): boolean {
  const value = url.searchParams.get('watch');
  return value !== null && !['false', '0'].includes(value.toLowerCase());
}

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const info: RequestInfo = {
    resourceRequest: false, path, verb: (method || 'GET').toLowerCase(), group: '', version: '', namespace: '',
    resource: '', name: '', subresource: '', rest: [],
  };
  const parts = path.replace(/^\/+|\/+$/g, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  const prefixLen = parts[0] === 'api' ? 2 : parts[0] === 'apis' ? 3 : 0;
  if (prefixLen === 0 || parts.length <= prefixLen) return info;
  info.resourceRequest = true;
  if (parts[0] === 'api') info.version = parts[1];
  else [info.group, info.version] = [parts[1], parts[2]];
  let current = parts.slice(prefixLen);
  info.verb = VERBS[method] ?? method.toLowerCase();
  if (current[0] === 'watch' && current.length >= 2) {
    info.verb = 'watch';
    current = current.slice(1);
  }
  if (current[0] === 'namespaces' && current.length > 1) {
    info.namespace = current[1];
    if (current.length > 2 && !NAMESPACE_SUBRESOURCES.has(current[2])) current = current.slice(2);
  }
  info.resource = current[0] ?? '';
  info.name = current[1] ?? '';
  info.subresource = current[2] ?? '';
  info.rest = current.slice(3);
  if (!info.name) {
    if (info.verb === 'get') info.verb = isWatchParam(url) ? 'watch' : 'list';
    if (info.verb === 'delete') info.verb = 'deletecollection';
  }
  return info;
}
