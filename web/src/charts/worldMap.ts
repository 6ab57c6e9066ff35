// The world map of the trips map (docs/frontend.md §3.3): Natural Earth's
// land outline at 1:110m (npm world-atlas, TopoJSON) turned into GeoJSON
// (topojson-client) and registered with ECharts once. Loaded on first use, so
// neither the outline nor the decoder is in the main bundle.
//
// The outline is drawn on a plain lon/lat plane, where a ring that crosses
// the antimeridian (Chukotka, Fiji) would be drawn across the whole map:
// such rings are unwrapped and cut at ±180° (splitAtAntimeridian).
import { registerMap } from 'echarts/core'

import { WORLD_MAP } from './module'

type Point = [number, number]
type Ring = Point[]

/** Keeps the part of a ring on one side of the vertical line x = edge (Sutherland–Hodgman). */
function clip(ring: Ring, edge: number, keepBelow: boolean): Ring {
  const inside = (p: Point) => (keepBelow ? p[0] <= edge : p[0] >= edge)
  const cross = (a: Point, b: Point): Point => [edge, a[1] + ((b[1] - a[1]) * (edge - a[0])) / (b[0] - a[0])]
  const out: Ring = []
  for (let i = 0; i < ring.length; i++) {
    const cur = ring[i]!
    const prev = ring[(i + ring.length - 1) % ring.length]!
    if (inside(cur)) {
      if (!inside(prev)) out.push(cross(prev, cur))
      out.push(cur)
    } else if (inside(prev)) {
      out.push(cross(prev, cur))
    }
  }
  return out
}

/**
 * A ring ([lon, lat], closed or not) as rings within −180…180: unchanged when
 * it does not jump across the antimeridian; otherwise unwrapped (no step over
 * 180°) and cut into its parts west and east of ±180°.
 */
export function splitAtAntimeridian(ring: Ring): Ring[] {
  if (ring.length < 3) return [ring]
  const jumps = ring.some((p, i) => i > 0 && Math.abs(p[0] - ring[i - 1]![0]) > 180)
  if (!jumps) return [ring]
  const unwrapped: Ring = [ring[0]!]
  for (let i = 1; i < ring.length; i++) {
    let lon = ring[i]![0]
    const prev = unwrapped[i - 1]![0]
    while (lon - prev > 180) lon -= 360
    while (lon - prev < -180) lon += 360
    unwrapped.push([lon, ring[i]![1]])
  }
  const out: Ring[] = []
  for (const shift of [-360, 0, 360]) {
    const moved = unwrapped.map(([x, y]): Point => [x + shift, y])
    const part = clip(clip(moved, 180, true), -180, false)
    if (part.length >= 3) out.push(part)
  }
  return out
}

interface Geometry {
  type: string
  coordinates: unknown
}

/** The polygons of a (Multi)Polygon geometry, each ring split at the antimeridian (holes kept when nothing was cut). */
export function splitGeometry(g: Geometry): Geometry {
  const polygons = g.type === 'Polygon' ? [g.coordinates as Ring[]] : g.type === 'MultiPolygon' ? (g.coordinates as Ring[][]) : null
  if (!polygons) return g
  const out: Ring[][] = []
  for (const [outer, ...holes] of polygons) {
    if (!outer) continue
    const parts = splitAtAntimeridian(outer)
    if (parts.length === 1 && parts[0] === outer) out.push([outer, ...holes])
    else for (const p of parts) out.push([p])
  }
  return { type: 'MultiPolygon', coordinates: out }
}

let loading: Promise<string> | null = null

/** Registers the world map (once) and answers its name for `geo.map`. */
export function loadWorldMap(): Promise<string> {
  loading ??= Promise.all([import('world-atlas/land-110m.json'), import('topojson-client')])
    .then(([atlas, topojson]) => {
      const topology = (atlas.default ?? atlas) as Parameters<typeof topojson.feature>[0]
      const land = topojson.feature(topology, topology.objects.land)
      const features = 'features' in land ? land.features : [land]
      registerMap(WORLD_MAP, {
        type: 'FeatureCollection',
        features: features.map((f, i) => ({ ...f, geometry: splitGeometry(f.geometry as Geometry), properties: { name: `land-${i}` } })),
      } as never)
      return WORLD_MAP
    })
    .catch((err: unknown) => {
      loading = null
      throw err
    })
  return loading
}
