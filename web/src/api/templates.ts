// Header-only CSV templates of the upload groups (links, not fetched).
import { clientOf, path, type CallOptions } from './base'
import type { operations } from './schema'

export type TemplateKind = operations['getUploadTemplate']['parameters']['path']['kind']

/** URL of GET /templates/{kind}/{group}.csv, e.g. ('data', 'plane'). */
export function uploadTemplateUrl(kind: TemplateKind, group: string, opts?: CallOptions): string {
  return clientOf(opts).url(path`/templates/${kind}/${group}.csv`)
}
