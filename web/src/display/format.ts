// Number formatting of emissions (docs/frontend.md §1 "Rounding"): API values are
// shown as given, t CO2-eq with 1–3 decimals by magnitude, kg with 0–2.
import { formatNumber, type Locale } from '@/i18n'

/** Decimals of a t CO2-eq value: 3 below 1 t, 2 below 100 t, else 1. */
export function tonneDecimals(t: number): number {
  const a = Math.abs(t)
  if (a < 1) return 3
  if (a < 100) return 2
  return 1
}

export function formatTonnes(t: number | null | undefined, locale: Locale): string {
  if (t === null || t === undefined || Number.isNaN(t)) return '–'
  const d = tonneDecimals(t)
  return formatNumber(t, locale, { minimumFractionDigits: 1, maximumFractionDigits: d })
}

/** kg CO2-eq with 0–2 decimals (0 from 100 kg up). */
export function formatKg(kg: number | null | undefined, locale: Locale): string {
  if (kg === null || kg === undefined || Number.isNaN(kg)) return '–'
  return formatNumber(kg, locale, { maximumFractionDigits: Math.abs(kg) >= 100 ? 0 : 2 })
}

/** kg → t with 3 decimals kept (display rounding is done by formatTonnes). */
export function kgToTonnes(kg: number): number {
  return Math.round(kg) / 1000
}

/** A signed percentage, e.g. "+25.0 %" / "−3.1 %"; "–" when unknown. */
export function formatPercent(p: number | null | undefined, locale: Locale, signed = false): string {
  if (p === null || p === undefined || Number.isNaN(p)) return '–'
  const s = formatNumber(p / 100, locale, {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
    ...(signed ? { signDisplay: 'exceptZero' as const } : {}),
  })
  return s
}

/** A plain number (FTE, counts) with up to `max` decimals. */
export function formatPlain(v: number | null | undefined, locale: Locale, max = 2): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  return formatNumber(v, locale, { maximumFractionDigits: max })
}

/** A size in bytes: "950 B", "12.5 kB", "3.2 MB" (decimal units). */
export function formatBytes(bytes: number | null | undefined, locale: Locale): string {
  if (bytes === null || bytes === undefined || Number.isNaN(bytes)) return '–'
  const units = ['B', 'kB', 'MB', 'GB']
  let v = bytes
  let i = 0
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${formatNumber(v, locale, { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`
}

/** A duration left, rounded up: "5 s", "2 min", "1 h 5 min" (null when unknown). */
export function formatDuration(seconds: number | null | undefined, locale: Locale): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null
  const s = Math.ceil(seconds)
  const n = (v: number) => formatNumber(v, locale, { maximumFractionDigits: 0 })
  if (s < 60) return `${n(s)} s`
  const m = Math.ceil(s / 60)
  if (m < 60) return `${n(m)} min`
  return `${n(Math.floor(m / 60))} h ${n(m % 60)} min`
}
