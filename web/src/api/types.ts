// Shorthands for the generated OpenAPI types (schema.d.ts) used by pages and stores.
import type { Schemas } from './client'

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
export type Entry = Schemas['Entry']
export type EntryList = Schemas['EntryList']
export type ResultsSummary = Schemas['ResultsSummary']
export type ResultsBreakdown = Schemas['ResultsBreakdown']
export type BreakdownCategory = ResultsBreakdown['categories'][number]

/** Path of a unit-year resource: /units/{u}/years/{y}. */
export function unitYearPath(unitId: number | string, year: number | string): string {
  return `/units/${encodeURIComponent(String(unitId))}/years/${encodeURIComponent(String(year))}`
}

/** Prefix P of module data (api.md §5). */
export function modulePath(unitId: number | string, year: number | string, module: string): string {
  return `${unitYearPath(unitId, year)}/modules/${encodeURIComponent(module)}`
}
