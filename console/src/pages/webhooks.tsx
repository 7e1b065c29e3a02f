import { Page } from "../ui";

export const Webhooks = () => (
  <Page title="Webhooks">
    <p>Not built yet.</p>
  </Page>
);
