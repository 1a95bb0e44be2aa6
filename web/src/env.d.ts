// Vite's module kinds the UI imports besides TypeScript (stylesheets).
declare module "*.css";
