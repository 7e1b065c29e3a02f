import { Page } from "../ui";

export const Members = () => (
  <Page title="Members">
    <p>Not built yet.</p>
  </Page>
);
