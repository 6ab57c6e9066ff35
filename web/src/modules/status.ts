// Module status colours (docs/frontend.md §3.2): not_started grey, in_progress
// amber, validated green. Chip text keeps a contrast of at least 4.5:1 with
// its background (WCAG AA; test/status.test.ts checks the palette): the amber
// chip has dark text, the others white.

/** Quasar palette colours used here (hex), for the contrast test. */
export const PALETTE = {
  'grey-7': '#757575',
  'amber-8': '#ffa000',
  'green-9': '#2e7d32',
  'orange-10': '#e65100',
  dark: '#1d1d1d',
  white: '#ffffff',
} as const

type PaletteColor = keyof typeof PALETTE

/** Background of a status chip. */
export function statusColor(status: string | null | undefined): PaletteColor {
  switch (status) {
    case 'validated':
      return 'green-9'
    case 'in_progress':
      return 'amber-8'
    default:
      return 'grey-7'
  }
}

/** Text colour of a status chip (contrast ≥ 4.5:1 with statusColor). */
export function statusTextColor(status: string | null | undefined): PaletteColor {
  return status === 'in_progress' ? 'dark' : 'white'
}

/** Colour of a status icon on a white background (contrast ≥ 3:1 for graphics). */
export function statusIconColor(status: string | null | undefined): PaletteColor {
  switch (status) {
    case 'validated':
      return 'green-9'
    case 'in_progress':
      return 'orange-10'
    default:
      return 'grey-7'
  }
}

export function statusIcon(status: string | null | undefined): string {
  switch (status) {
    case 'validated':
      return 'check_circle'
    case 'in_progress':
      return 'pending'
    default:
      return 'radio_button_unchecked'
  }
}
