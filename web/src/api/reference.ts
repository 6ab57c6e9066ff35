// Reference data for entry forms: taxonomies (dropdowns from the year's
// factors), locations (airports, train stations, distances), building rooms.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { BuildingRoom, Location, QueryOf, ResponseOf, Taxonomy } from './types'

export type Distance = ResponseOf<'previewDistance', 200>
export type Building = ResponseOf<'listBuildings', 200>[number]

/** GET /taxonomies/{submodule}: class → subclass options (year: default the latest open one). */
export function getTaxonomy(submodule: string, query: QueryOf<'getTaxonomy'> = {}, opts?: CallOptions): Promise<Taxonomy> {
  return clientOf(opts).get<Taxonomy>(path`/taxonomies/${submodule}`, requestOptions(opts, { query }))
}

/** GET /locations?q&mode: airport or train station search. */
export function searchLocations(query: QueryOf<'searchLocations'>, opts?: CallOptions): Promise<Location[]> {
  return clientOf(opts).get<Location[]>('/locations', requestOptions(opts, { query }))
}

/** GET /locations/distance: the distance the engine computes between two locations. */
export function previewDistance(query: QueryOf<'previewDistance'>, opts?: CallOptions): Promise<Distance> {
  return clientOf(opts).get<Distance>('/locations/distance', requestOptions(opts, { query }))
}

/** GET /building-rooms: reference rooms of a building. */
export function listBuildingRooms(query: QueryOf<'listBuildingRooms'> = {}, opts?: CallOptions): Promise<BuildingRoom[]> {
  return clientOf(opts).get<BuildingRoom[]>('/building-rooms', requestOptions(opts, { query }))
}

/** GET /building-rooms/buildings: distinct buildings of the reference rooms. */
export function listBuildings(query: QueryOf<'listBuildings'> = {}, opts?: CallOptions): Promise<Building[]> {
  return clientOf(opts).get<Building[]>('/building-rooms/buildings', requestOptions(opts, { query }))
}
