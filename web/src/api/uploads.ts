// Uploads: a unit's module CSV (P/uploads, module_sync) and the back-office
// uploads (/uploads), their row errors and original files.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { BodyOf, ModuleRef, QueryOf, ResponseOf, Upload, UploadAccepted } from './types'

const moduleUploadsPath = (r: ModuleRef) => path`/units/${r.unitId}/years/${r.year}/modules/${r.module}/uploads`
const uploadPath = (id: string) => path`/uploads/${id}`

export type ModuleUploads = ResponseOf<'listModuleUploads', 200>
export type UploadPage = ResponseOf<'listUploads', 200>
export type CopyUploadBody = BodyOf<'copyUpload'>

/** Options of the multipart uploads: the bytes sent so far (XMLHttpRequest upload events, docs/frontend.md §5.1). */
export interface UploadCallOptions extends CallOptions {
  onUploadProgress?: ((loaded: number, total: number) => void) | undefined
}

const progressOf = (opts: UploadCallOptions | undefined) => (opts?.onUploadProgress ? { onUploadProgress: opts.onUploadProgress } : {})

/**
 * POST P/uploads (multipart: submodule, replace_existing, then the file):
 * 202 with the upload and its import pipeline.
 */
export function createModuleUpload(ref: ModuleRef, form: FormData, opts?: UploadCallOptions): Promise<UploadAccepted> {
  return clientOf(opts).post<UploadAccepted>(moduleUploadsPath(ref), form, requestOptions(opts, progressOf(opts)))
}

/** GET P/uploads: the module's last 50 uploads, newest first. */
export function listModuleUploads(ref: ModuleRef, opts?: CallOptions): Promise<ModuleUploads> {
  return clientOf(opts).get<ModuleUploads>(moduleUploadsPath(ref), requestOptions(opts))
}

/** GET /uploads (back office). */
export function listUploads(query: QueryOf<'listUploads'> = {}, opts?: CallOptions): Promise<UploadPage> {
  return clientOf(opts).get<UploadPage>('/uploads', requestOptions(opts, { query }))
}

/** POST /uploads (back office, multipart: kind, year, module/submodule/dataset, then the file). */
export function createUpload(form: FormData, opts?: UploadCallOptions): Promise<UploadAccepted> {
  return clientOf(opts).post<UploadAccepted>('/uploads', form, requestOptions(opts, progressOf(opts)))
}

/** POST /uploads/copy: re-imports a previous upload's file for another year. */
export function copyUpload(body: CopyUploadBody, opts?: CallOptions): Promise<UploadAccepted> {
  return clientOf(opts).post<UploadAccepted>('/uploads/copy', body, requestOptions(opts))
}

/** GET /uploads/{id}. */
export function getUpload(id: string, opts?: CallOptions): Promise<Upload> {
  return clientOf(opts).get<Upload>(uploadPath(id), requestOptions(opts))
}

/** URL of GET /uploads/{id}/errors.csv (a link: the row errors as CSV). */
export function uploadErrorsCsvUrl(id: string, opts?: CallOptions): string {
  return clientOf(opts).url(`${uploadPath(id)}/errors.csv`)
}

/** URL of GET /uploads/{id}/file (a link: the original bytes). */
export function uploadFileUrl(id: string, opts?: CallOptions): string {
  return clientOf(opts).url(`${uploadPath(id)}/file`)
}
