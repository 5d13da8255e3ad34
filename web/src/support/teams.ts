// Teams for admins (issue 18): members, capacity, overflow, typing preview and
// business hours (time zone, weekly hours, holidays). The screen renders this.
import type { SupportApi } from '../api/endpoints'
import { type ApiError, asApiError } from '../api/errors'
import type { BusinessHours, OperatorPublic, Team, TeamCreate } from '../api/types'
import { Store } from '../lib/store'

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export interface HoursForm {
  timezone: string
  days: Record<Weekday, { open: boolean; start: string; end: string }>
  holidays: string
}

export function emptyHours(): HoursForm {
  const days = {} as HoursForm['days']
  for (const day of WEEKDAYS) days[day] = { open: day !== 'fri', start: '09:00', end: '17:00' }
  return { timezone: 'Asia/Tehran', days, holidays: '' }
}

/** The form as the API's hours: one interval per open day; holidays one per line or comma. */
export function hoursFrom(form: HoursForm): BusinessHours {
  const weekly: BusinessHours['weekly'] = {}
  for (const day of WEEKDAYS) {
    const value = form.days[day]
    if (value.open) weekly[day] = [{ start: value.start, end: value.end }]
  }
  const holidays = form.holidays
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean)
  return { timezone: form.timezone.trim(), weekly, holidays }
}

export interface TeamsState {
  teams: Team[]
  operators: OperatorPublic[]
  error: ApiError | null
  saved: string | null
}

export class TeamsStore extends Store<TeamsState> {
  constructor(private readonly support: SupportApi) {
    super({ teams: [], operators: [], error: null, saved: null })
  }

  async load(): Promise<void> {
    await this.#guard(async () => {
      const [teams, operators] = await Promise.all([this.support.teams(), this.support.operators()])
      this.patch({ teams, operators })
    })
  }

  async create(team: TeamCreate, hours: HoursForm | null): Promise<boolean> {
    return this.#guard(async () => {
      const created = await this.support.createTeam({ ...team, hours: hours ? hoursFrom(hours) : null })
      this.patch({ teams: [...this.value.teams, created], saved: created.name })
    })
  }

  async addMember(teamId: string, userId: string): Promise<boolean> {
    return this.#guard(async () => this.#replace(await this.support.addMember(teamId, userId)))
  }

  async removeMember(teamId: string, userId: string): Promise<boolean> {
    return this.#guard(async () => this.#replace(await this.support.removeMember(teamId, userId)))
  }

  clearError(): void {
    this.patch({ error: null })
  }

  #replace(team: Team): void {
    this.patch({ teams: this.value.teams.map((item) => (item.id === team.id ? team : item)) })
  }

  async #guard(work: () => Promise<void>): Promise<boolean> {
    try {
      await work()
      this.patch({ error: null })
      return true
    } catch (caught) {
      this.patch({ error: asApiError(caught), saved: null })
      return false
    }
  }
}
