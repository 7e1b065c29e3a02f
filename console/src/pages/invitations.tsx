import { Page } from "../ui";

export const Invitations = () => (
  <Page title="Invitations">
    <p>Not built yet.</p>
  </Page>
);
