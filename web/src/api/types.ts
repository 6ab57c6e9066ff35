// Shorthands for the generated OpenAPI types (schema.d.ts) used by the API
// modules, pages and stores.
import type { Schemas } from './client'
import type { operations } from './schema'

export type { Schemas } from './client'

export type Version = Schemas['Version']
export type ClientConfig = Schemas['ClientConfig']
export type Me = Schemas['Me']
export type Grant = Schemas['Grant']
export type Unit = Schemas['Unit']
export type MeUnitRaw = Schemas['MeUnit']
/** /me/units item with the unit typed (the schema leaves it open). */
export type MeUnit = Omit<MeUnitRaw, 'unit'> & { unit: Unit }
export type MeUnitReport = MeUnitRaw['reports'][number]
export type Report = Schemas['Report']
export type ReportModule = Schemas['ReportModule']
export type ModuleKey = Schemas['ModuleKey']
export type ModuleStatus = ReportModule['status']
export type ModuleOverview = Schemas['ModuleOverview']
export type ModuleBreakdownNode = Schemas['ModuleBreakdownNode']
export type Entry = Schemas['Entry']
export type EntryList = Schemas['EntryList']
export type EntryWrite = Schemas['EntryWrite']
export type EntryWriteResult = Schemas['EntryWriteResult']
export type TripsMap = Schemas['TripsMap']
export type ResultsSummary = Schemas['ResultsSummary']
export type ResultsBreakdown = Schemas['ResultsBreakdown']
export type ResultsIT = Schemas['ResultsIT']
export type BreakdownCategory = ResultsBreakdown['categories'][number]
export type Upload = Schemas['Upload']
export type UploadAccepted = Schemas['UploadAccepted']
export type Pipeline = Schemas['Pipeline']
export type PipelinePage = Schemas['PipelinePage']
export type PipelineStatus = Schemas['PipelineStatus']
export type PipelineJob = Schemas['PipelineJob']
export type Taxonomy = Schemas['Taxonomy']
export type Location = Schemas['Location']
export type BuildingRoom = Schemas['BuildingRoom']
export type FXRate = Schemas['FXRate']
export type Export = Schemas['Export']

export type UnitId = number
export type Year = number

/** A module of a unit's report (components can pass their props). */
export interface ModuleRef {
  unitId: UnitId
  year: Year
  module: ModuleKey
}

/** A submodule of a unit's report. */
export interface SubmoduleRef extends ModuleRef {
  submodule: string
}

/** operationId of the OpenAPI document. */
export type OperationId = keyof operations

/** Query parameters of an operation (every one optional unless the schema says otherwise). */
export type QueryOf<K extends OperationId> = NonNullable<operations[K]['parameters']['query']>

/** JSON body of an operation's answer with the given status. */
export type ResponseOf<K extends OperationId, S extends keyof operations[K]['responses']> = operations[K]['responses'][S] extends {
  content: { 'application/json': infer T }
}
  ? T
  : never

/** JSON request body of an operation. */
export type BodyOf<K extends OperationId> = operations[K] extends { requestBody: { content: { 'application/json': infer T } } } ? T : never
