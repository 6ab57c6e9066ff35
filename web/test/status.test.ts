// Status chips and icons keep WCAG contrast (src/modules/status.ts): chip
// text ≥ 4.5:1 on its background, icons ≥ 3:1 on white.
import { describe, expect, it } from 'vitest'

import { PALETTE, statusColor, statusIconColor, statusTextColor } from '@/modules/status'

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi! + 0.05) / (lo! + 0.05)
}

describe('status colours', () => {
  it.each(['not_started', 'in_progress', 'validated'])('%s chip text has at least 4.5:1', (status) => {
    expect(contrast(PALETTE[statusColor(status)], PALETTE[statusTextColor(status)])).toBeGreaterThanOrEqual(4.5)
  })

  it.each(['not_started', 'in_progress', 'validated'])('%s icon has at least 3:1 on white', (status) => {
    expect(contrast(PALETTE[statusIconColor(status)], PALETTE.white)).toBeGreaterThanOrEqual(3)
  })

  it('computes known ratios', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5)
    // The old in-progress chip: white on amber-8, about 2:1.
    expect(contrast(PALETTE['amber-8'], PALETTE.white)).toBeLessThan(2.5)
  })
})
