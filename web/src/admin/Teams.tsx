// Admin: support teams (issue 18): create one with its topic, capacity,
// overflow, typing preview and business hours; add and remove members.
// Renders TeamsStore (support/teams.ts).
import { useEffect, useMemo, useState } from 'preact/hooks'
import type { App } from '../app'
import { type MessageKey, useT } from '../i18n'
import { useStore } from '../lib/store'
import { emptyHours, type HoursForm, TeamsStore, WEEKDAYS } from '../support/teams'
import { ErrorBanner } from '../ui/common'

export function Teams({ app }: { app: App }) {
  const t = useT()
  const store = useMemo(() => new TeamsStore(app.support), [])
  const state = useStore(store)
  useEffect(() => void store.load(), [store])
  const nameOf = (id: string) => {
    const operator = state.operators.find((item) => item.operator_id === id)
    return operator?.display_name || operator?.username || id
  }
  return (
    <section class="stack" aria-labelledby="teams-title">
      <h2 id="teams-title">{t('teams.title')}</h2>
      <ErrorBanner error={state.error} onDismiss={() => store.clearError()} />
      {state.saved && (
        <p role="status" class="hint">
          {t('teams.created', { name: state.saved })}
        </p>
      )}
      {state.teams.length === 0 && <p class="hint">{t('teams.empty')}</p>}
      <ul class="list" data-testid="teams">
        {state.teams.map((team) => (
          <li key={team.id} class="card stack" data-team={team.topic}>
            <div class="row-between">
              <h3 dir="auto">{team.name}</h3>
              <span class="hint" dir="ltr">
                {team.topic}
              </span>
            </div>
            <p class="hint">
              {t('teams.summary', {
                capacity: team.capacity ?? '—',
                overflow: team.overflow_seconds ?? '—',
              })}
              {team.typing_preview ? ` · ${t('teams.typing_preview_on')}` : ''}
              {team.hours ? ` · ${t('teams.hours_in', { zone: team.hours.timezone })}` : ` · ${t('teams.always_open')}`}
            </p>
            {team.hours && (
              <p class="hint" dir="ltr">
                {WEEKDAYS.map((day) => {
                  const intervals = team.hours?.weekly[day] ?? []
                  return `${day} ${intervals.length ? intervals.map((i) => `${i.start}–${i.end}`).join(', ') : '×'}`
                }).join(' · ')}
                {team.hours.holidays?.length ? ` · ${team.hours.holidays.join(', ')}` : ''}
              </p>
            )}
            <h4>{t('teams.members')}</h4>
            <ul class="chips">
              {team.members.map((id) => (
                <li key={id}>
                  <span dir="auto">{nameOf(id)}</span>
                  <button
                    type="button"
                    class="chip-remove"
                    aria-label={t('teams.remove_member', { name: nameOf(id), team: team.name })}
                    onClick={() => void store.removeMember(team.id, id)}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
            <AddMember
              teamName={team.name}
              candidates={state.operators.filter((operator) => !team.members.includes(operator.operator_id))}
              onAdd={(id) => void store.addMember(team.id, id)}
            />
          </li>
        ))}
      </ul>
      <NewTeam store={store} />
    </section>
  )
}

function AddMember({
  teamName,
  candidates,
  onAdd,
}: {
  teamName: string
  candidates: Array<{ operator_id: string; username: string; display_name?: string | null }>
  onAdd: (id: string) => void
}) {
  const t = useT()
  const [chosen, setChosen] = useState('')
  if (candidates.length === 0) return null
  return (
    <form
      class="label-add"
      onSubmit={(event) => {
        event.preventDefault()
        if (chosen) onAdd(chosen)
        setChosen('')
      }}
    >
      <label>
        <span class="visually-hidden">{t('teams.add_member_to', { team: teamName })}</span>
        <select
          aria-label={t('teams.add_member_to', { team: teamName })}
          value={chosen}
          onChange={(event) => setChosen(event.currentTarget.value)}
        >
          <option value="">{t('teams.pick_operator')}</option>
          {candidates.map((operator) => (
            <option key={operator.operator_id} value={operator.operator_id}>
              {operator.display_name || operator.username}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">{t('teams.add_member')}</button>
    </form>
  )
}

function NewTeam({ store }: { store: TeamsStore }) {
  const t = useT()
  const [name, setName] = useState('')
  const [topic, setTopic] = useState('')
  const [capacity, setCapacity] = useState('')
  const [overflow, setOverflow] = useState('')
  const [preview, setPreview] = useState(false)
  const [withHours, setWithHours] = useState(false)
  const [hours, setHours] = useState<HoursForm>(emptyHours())
  const setDay = (day: (typeof WEEKDAYS)[number], change: Partial<HoursForm['days']['mon']>) =>
    setHours({ ...hours, days: { ...hours.days, [day]: { ...hours.days[day], ...change } } })
  return (
    <form
      class="card stack"
      aria-labelledby="new-team-title"
      onSubmit={async (event) => {
        event.preventDefault()
        const ok = await store.create(
          {
            name: name.trim(),
            topic: topic.trim(),
            capacity: capacity ? Number(capacity) : null,
            overflow_seconds: overflow ? Number(overflow) : null,
            typing_preview: preview,
          },
          withHours ? hours : null,
        )
        if (ok) {
          setName('')
          setTopic('')
        }
      }}
    >
      <h3 id="new-team-title">{t('teams.new')}</h3>
      <label>
        {t('teams.name')}
        <input dir="auto" required maxLength={80} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        {t('teams.topic')}
        <input dir="ltr" required pattern="[a-z0-9\-]+" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
      </label>
      <label>
        {t('teams.capacity')}
        <input type="number" min={1} value={capacity} onInput={(e) => setCapacity(e.currentTarget.value)} />
      </label>
      <label>
        {t('teams.overflow')}
        <input type="number" min={0} value={overflow} onInput={(e) => setOverflow(e.currentTarget.value)} />
      </label>
      <label class="check">
        <input type="checkbox" checked={preview} onChange={(e) => setPreview(e.currentTarget.checked)} />
        {t('teams.typing_preview')}
      </label>
      <label class="check">
        <input type="checkbox" checked={withHours} onChange={(e) => setWithHours(e.currentTarget.checked)} />
        {t('teams.has_hours')}
      </label>
      {withHours && (
        <fieldset class="stack">
          <legend>{t('teams.hours')}</legend>
          <label>
            {t('teams.timezone')}
            <input dir="ltr" value={hours.timezone} onInput={(e) => setHours({ ...hours, timezone: e.currentTarget.value })} />
          </label>
          <table class="table">
            <tbody>
              {WEEKDAYS.map((day) => (
                <tr key={day}>
                  <th scope="row">
                    <label class="check">
                      <input
                        type="checkbox"
                        checked={hours.days[day].open}
                        onChange={(e) => setDay(day, { open: e.currentTarget.checked })}
                      />
                      {t(`day.${day}` as MessageKey)}
                    </label>
                  </th>
                  <td>
                    <input
                      type="time"
                      aria-label={t('teams.opens', { day: t(`day.${day}` as MessageKey) })}
                      value={hours.days[day].start}
                      disabled={!hours.days[day].open}
                      onInput={(e) => setDay(day, { start: e.currentTarget.value })}
                    />
                  </td>
                  <td>
                    <input
                      type="time"
                      aria-label={t('teams.closes', { day: t(`day.${day}` as MessageKey) })}
                      value={hours.days[day].end}
                      disabled={!hours.days[day].open}
                      onInput={(e) => setDay(day, { end: e.currentTarget.value })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <label>
            {t('teams.holidays')}
            <textarea dir="ltr" rows={2} value={hours.holidays} onInput={(e) => setHours({ ...hours, holidays: e.currentTarget.value })} />
          </label>
        </fieldset>
      )}
      <button type="submit" class="primary">
        {t('teams.create')}
      </button>
    </form>
  )
}
