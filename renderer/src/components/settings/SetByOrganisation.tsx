/** Beside a setting the organisation's managed configuration fixed: why it cannot be changed here. */
export function SetByOrganisation({ id }: { id?: string }) {
  return (
    <p id={id} className="hint managed-note">
      Set by your organisation
    </p>
  );
}
