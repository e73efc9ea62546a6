import type { FullConfig } from "@playwright/test";

// Wait until the server answers its readiness probe instead of racing it
// (a server at BASE_URL may still be starting).
export default async function globalSetup(config: FullConfig): Promise<void> {
  const baseURL = config.projects[0]?.use.baseURL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let lastError: unknown = undefined;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseURL}/api/ready`);
      if (response.ok) return;
      lastError = new Error(`readiness answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the server at ${baseURL} never became ready: ${String(lastError)}`);
}
