import { provokeEveryRoute } from "./provocations";

// The declared routes at even positions (provocations.ts).
provokeEveryRoute(0);
