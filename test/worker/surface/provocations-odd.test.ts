import { provokeEveryRoute } from "./provocations";

// The declared routes at odd positions (provocations.ts).
provokeEveryRoute(1);
