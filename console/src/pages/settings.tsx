import { Page } from "../ui";

export const Settings = () => (
  <Page title="Settings">
    <p>Not built yet.</p>
  </Page>
);
