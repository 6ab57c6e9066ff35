// Module status chips (docs/frontend.md §3.2): not_started grey, in_progress amber, validated green.
export function statusColor(status: string | null | undefined): string {
  switch (status) {
    case 'validated':
      return 'positive'
    case 'in_progress':
      return 'amber-8'
    default:
      return 'grey-6'
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
