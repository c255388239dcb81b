// Handle HTTP requests with the Fetch API.
addEventListener('fetch', (event: any) => {
  const greeting: string = 'Hello from TypeScript!';
  event.respondWith(
    new Response(greeting, {
      status: 200,
      headers: { 'content-type': 'text/plain' },
    }),
  );
});
