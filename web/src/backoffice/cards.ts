// Upload cards of the data-management page (docs/frontend.md §4.2): per
// submodule, in this order, Factors, Reference (plane, train, rooms), Data
// (per-year CSV) and Tableau (plane); equipment and purchases also have a
// module-file card for their data and factors. The factor groups and the
// reference datasets mirror pkg/emission/catalogue.go (FactorGroup, Reference).
import type { DataStatusInput, DataStatusSubmodule } from '@/api/years'
import type { TemplateKind } from '@/api/templates'
import { FACTORS_ONLY_SUBMODULES } from '@/modules/catalogue.gen'

export type CardKind = 'factors' | 'reference' | 'data' | 'tableau'
export type ReferenceDataset = 'locations_plane' | 'locations_train' | 'building_rooms'

/** Factor upload group of each submodule (emission.Submodule.FactorGroup). */
export const FACTOR_GROUPS: Record<string, string> = {
  member: 'member',
  student: 'student',
  plane: 'plane',
  train: 'train',
  room: 'room',
  energy_combustion: 'energy_combustion',
  embodied_energy: 'embodied_energy',
  scientific: 'equipment',
  it: 'equipment',
  other: 'equipment',
  scientific_equipment: 'purchases',
  it_equipment: 'purchases',
  consumable_accessories: 'purchases',
  biological_chemical_gaseous: 'purchases',
  services: 'purchases',
  vehicles: 'purchases',
  other_purchases: 'purchases',
  additional: 'additional',
  facility: 'facility',
  animal_facility: 'animal_facility',
  cloud: 'cloud',
  ai: 'ai',
  process_gas: 'process_gas',
}

/** Reference dataset of the submodules that have one (emission.Submodule.Reference). */
export const REFERENCE_DATASETS: Record<string, ReferenceDataset> = {
  plane: 'locations_plane',
  train: 'locations_train',
  room: 'building_rooms',
}

/** Modules with a module file (no submodule: rows routed by their category). */
export const MODULE_FILE_MODULES = ['equipment', 'purchases'] as const

/** Research-facility submodules whose factors can be computed (POST /factors/compute). */
export const COMPUTE_SUBMODULES = ['facility', 'animal_facility'] as const

/** One upload card: where a file goes (POST /uploads fields) and its template. */
export interface UploadCard {
  kind: CardKind
  /** Stable id (data-test, dialog state). */
  id: string
  module: string
  /** Empty for module files and reference datasets. */
  submodule: string
  dataset: string
  templateKind: TemplateKind | null
  templateGroup: string
  latest: DataStatusInput | null
}

const isFactorsOnly = (s: string) => (FACTORS_ONLY_SUBMODULES as readonly string[]).includes(s)

/** The cards of one submodule, in display order. */
export function submoduleCards(module: string, sub: DataStatusSubmodule, opts: { tableau?: boolean } = {}): UploadCard[] {
  const s = sub.submodule
  const out: UploadCard[] = []
  const group = FACTOR_GROUPS[s]
  if (group) {
    out.push({ kind: 'factors', id: `factors-${s}`, module, submodule: s, dataset: '', templateKind: 'factors', templateGroup: group, latest: sub.latest.factors })
  }
  const ref = REFERENCE_DATASETS[s]
  if (ref) {
    out.push({ kind: 'reference', id: `reference-${s}`, module: '', submodule: '', dataset: ref, templateKind: 'reference', templateGroup: ref, latest: sub.latest.reference })
  }
  if (!isFactorsOnly(s)) {
    out.push({ kind: 'data', id: `data-${s}`, module, submodule: s, dataset: '', templateKind: 'data', templateGroup: s, latest: sub.latest.data })
  }
  if (s === 'plane' && opts.tableau) {
    out.push({ kind: 'tableau', id: `tableau-${s}`, module, submodule: s, dataset: '', templateKind: null, templateGroup: '', latest: sub.latest.tableau })
  }
  return out
}

/** The module-file cards (data and factors) of equipment and purchases; [] for other modules. */
export function moduleFileCards(module: string): UploadCard[] {
  if (!(MODULE_FILE_MODULES as readonly string[]).includes(module)) return []
  return [
    { kind: 'factors', id: `factors-${module}-file`, module, submodule: '', dataset: '', templateKind: 'factors', templateGroup: module, latest: null },
    { kind: 'data', id: `data-${module}-file`, module, submodule: '', dataset: '', templateKind: 'data', templateGroup: module, latest: null },
  ]
}

/** Multipart fields of POST /uploads for a card, before the file part (docs/api.md §9). */
export function uploadFields(card: UploadCard, year: number, opts: { deleteStale?: boolean; allowDuplicate?: boolean } = {}): [string, string][] {
  const out: [string, string][] = [
    ['kind', card.kind === 'tableau' ? 'data' : card.kind],
    ['year', String(year)],
  ]
  if (card.kind === 'reference') out.push(['dataset', card.dataset])
  else {
    out.push(['module', card.module])
    if (card.submodule) out.push(['submodule', card.submodule])
  }
  if (card.kind === 'factors') out.push(['delete_stale', opts.deleteStale ? 'true' : 'false'])
  if (opts.allowDuplicate) out.push(['allow_duplicate', 'true'])
  return out
}

/** The GET /uploads query listing the earlier uploads of a card (copy from previous year). */
export function uploadsQueryOf(card: UploadCard, year: number) {
  if (card.kind === 'reference') return { year, kind: 'reference' as const, dataset: card.dataset, scope: 'global' as const, limit: 10 }
  const scope = card.kind === 'factors' ? ('global' as const) : ('year' as const)
  return { year, kind: card.kind === 'factors' ? ('factors' as const) : ('data' as const), module: card.module, ...(card.submodule ? { submodule: card.submodule } : {}), scope, limit: 10 }
}

/** Colour of a pipeline status chip (SUCCESS green, PARTIAL amber, FAILED red, RUNNING blue). */
export function pipelineStatusColor(status: string | null | undefined): { color: string; text: string } {
  switch (status) {
    case 'SUCCESS':
      return { color: 'green-9', text: 'white' }
    case 'PARTIAL':
      return { color: 'amber-8', text: 'dark' }
    case 'FAILED':
      return { color: 'red-9', text: 'white' }
    case 'RUNNING':
      return { color: 'blue-9', text: 'white' }
    default:
      return { color: 'grey-7', text: 'white' }
  }
}
