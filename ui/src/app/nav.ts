import { paths } from "@/lib/paths";

/** The shell's links. Global pages first; project pages appear once a project is open. */
export interface NavEntry {
  label: string;
  to: string;
}

export const GLOBAL_NAV: NavEntry[] = [
  { label: "Projects", to: paths.projects() },
  { label: "Jobs", to: paths.jobs() },
  { label: "Registry", to: paths.registry() },
  { label: "Settings", to: paths.settings() },
];

/** Pages of one project, under /projects/<name>/. */
export function projectNav(project: string): NavEntry[] {
  return [
    { label: "Overview", to: paths.project(project) },
    { label: "Dataset", to: paths.dataset(project) },
    { label: "Upload", to: paths.datasetUpload(project) },
    { label: "Annotate", to: paths.annotate(project) },
    { label: "Labels", to: paths.labels(project) },
    { label: "Import & export", to: paths.datasetTransfer(project) },
    { label: "Dataset revisions", to: paths.datasetRevisions(project) },
    { label: "Training", to: paths.training(project) },
    { label: "Models", to: paths.models(project) },
    { label: "Pipeline", to: paths.pipeline(project) },
  ];
}
