import { describe, expect, it } from 'vitest'
import { emptyHours, hoursFrom } from '../../src/support/teams'

describe('business hours from the form', () => {
  it('has one interval per open day, closed days left out, holidays one per line or comma', () => {
    const form = emptyHours()
    form.days.sat = { open: true, start: '08:30', end: '24:00' }
    form.holidays = '2027-03-21\n2027-03-22, 2027-04-01 '
    const hours = hoursFrom(form)
    expect(hours.timezone).toBe('Asia/Tehran')
    expect(hours.weekly.sat).toEqual([{ start: '08:30', end: '24:00' }])
    expect(hours.weekly.fri).toBeUndefined()
    expect(Object.keys(hours.weekly)).toHaveLength(6)
    expect(hours.holidays).toEqual(['2027-03-21', '2027-03-22', '2027-04-01'])
  })
})
