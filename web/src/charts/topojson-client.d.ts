// The part of topojson-client (no bundled types) that charts/worldMap.ts uses.
declare module 'topojson-client' {
  export interface GeoFeature {
    type: 'Feature'
    geometry: unknown
    properties: Record<string, unknown> | null
  }
  export interface Topology {
    type: 'Topology'
    objects: Record<string, unknown>
  }
  /** The GeoJSON of one object of a topology: a Feature or a FeatureCollection. */
  export function feature(topology: Topology, object: unknown): GeoFeature | { type: 'FeatureCollection'; features: GeoFeature[] }
}
